// No part of a password is ever printed: URLs whose password holds a raw @ : / % # ? or a
// space, given with --url or in POSTGRES_URL, through human and --json output, successes and
// errors, and the runner's own errors. Each password is made of fragments (Zq7, Wx9, Kp2,
// Lm5) so that a tail cut off at the wrong character is caught, not only the whole password.
import { Writable } from 'node:stream'

import { afterAll, describe, expect, it } from 'vitest'

import { runCli } from '../../src/cli/run-cli.js'
import { MigrationRunner } from '../../src/index.js'
import { redact, redactUrl } from '../../src/connect/index.js'
import { resolveTestServer } from '../../src/testing/test-server.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/secrets.test.ts'
const FRAGMENTS = ['Zq7', 'Wx9', 'Kp2', 'Lm5']
const PASSWORDS = [
  'Zq7@Wx9',
  'Zq7:Wx9@Kp2',
  'Zq7/Wx9',
  'Zq7%Wx9',
  'Zq7%41Wx9',
  'Zq7#Wx9',
  'Zq7?Wx9',
  'Zq7 Wx9',
  'Zq7@Wx9/Kp2:Lm5',
  '@Zq7:/Wx9?#Kp2 %Lm5',
]

function withPassword(url: string, password: string, database?: string): string {
  const u = new URL(url)
  return `postgres://${u.username || 'postgres'}:${password}@${u.host}/${database ?? u.pathname.slice(1)}`
}

function leaks(text: string): string[] {
  return FRAGMENTS.filter((f) => text.includes(f))
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  let out = ''
  const sink = new Writable({
    write: (chunk, _e, done) => {
      out += String(chunk)
      done()
    },
  })
  const code = await runCli(argv, { stdout: sink, stderr: sink, env, cwd: process.cwd() })
  return { code, out }
}

describe('redaction of URLs (offline)', () => {
  it('shows user and host, never any part of the password, for every awkward password', () => {
    for (const password of PASSWORDS) {
      const url = `postgres://app:${password}@db.example:5432/main?sslmode=require`
      const shown = redactUrl(url)
      expect({ password, leaks: leaks(shown) }).toEqual({ password, leaks: [] })
      expect(shown).toMatch(/^postgres:\/\/(app:\*\*\*@)?db\.example:5432\/main\?sslmode=require$/)
      // In free text a password with a space cannot be told from the words around it: callers
      // pass the passwords they know (the runner and the CLI do).
      expect(leaks(redact(`cannot connect to ${url}: refused`, [password]))).toEqual([])
      if (!password.includes(' ')) expect(leaks(redact(`cannot connect to ${url}: refused`))).toEqual([])
    }
    // A URL pg-connection-string cannot read is printed with no user-info at all.
    expect(redactUrl('postgres://app:Zq7/Wx9#Kp2@db/main')).toBe('postgres://db/main')
    expect(redactUrl('postgres://app:Zq7@Wx9@db/main')).toBe('postgres://app:***@db/main')
    expect(redactUrl('postgres://app@db/main?password=Zq7')).toBe('postgres://app@db/main?password=***')
  })
})

describe.skipIf(needsServer(server, 'secrets'))('secrets', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const name =
    'no part of a password with @ : / % # ? or a space is printed, in human or JSON output, on success or error'
  it(name, { timeout: 120_000 }, async () => {
    await recordScenario(
      { id: 'secrets-urls', group: 'Secrets', scenario: name, file: FILE, testName: name },
      async (progress) => {
        const handle = await databases.create()
        const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
        for (const password of PASSWORDS) {
          const good = withPassword(handle.url!, password)
          const missing = withPassword(handle.url!, password, 'no_such_database')
          const runs: Record<string, () => Promise<{ code: number; out: string }>> = {
            'status --url': () => cli(['status', '--dir', folder, '--url', good]),
            'status --url --json': () => cli(['status', '--dir', folder, '--url', good, '--json']),
            'plan POSTGRES_URL': () => cli(['plan', '--dir', folder], { POSTGRES_URL: good }),
            'migrate --json, no such database': () => cli(['migrate', '--dir', folder, '--url', missing, '--json']),
            'status, no such database (POSTGRES_URL_NON_POOLING)': () =>
              cli(['status', '--dir', folder], { POSTGRES_URL_NON_POOLING: missing }),
            'usage error quoting the URL': () => cli(['status', '--url', good, '--bogus']),
          }
          for (const [run, go] of Object.entries(runs)) {
            const { out } = await go()
            expect({ password, run, leaks: leaks(out) }).toEqual({ password, run, leaks: [] })
            progress.trials++
          }
          // The runner's own error, as an application would log it.
          const error = await new MigrationRunner({ url: missing, migrationFolder: folder, log: () => {} })
            .status()
            .then(
              () => undefined,
              (e: Error) => e,
            )
          expect(error).toBeDefined()
          const logged = `${error!.message} ${String((error as { cause?: unknown }).cause)} ${JSON.stringify(error)}`
          expect({ password, run: 'MigrationRunner error', leaks: leaks(logged) }).toEqual({
            password,
            run: 'MigrationRunner error',
            leaks: [],
          })
          progress.trials++
        }
        databases.release(handle)
      },
    )
  })
})
