// One error model, drawn two ways: every field of an error's --json document (code, message,
// file, line:column, the SQL line, SQLSTATE, detail, hint, context, advice) appears in the
// report a person reads, for real errors of every kind. Malformed URLs print no part of their
// password, and the embedded database's failures to open say what happened and what to do.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import type { CliErrorJson } from '../../src/cli/describe-error.js'
import { connectClient, resolveTestServer } from '../../src/testing/test-server.js'
import { cli, folderWith, jsonOf, plain, type CliRun } from '../support/cli-process.js'
import { recordScenario } from '../support/reliability-results.js'
import { scratchDir } from '../support/scratch.js'
import { TrialDatabases } from '../support/trial-databases.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/error-reports.e2e.ts'

type ErrorJson = CliErrorJson

const squash = (text: string): string => plain(text).replace(/\s+/g, ' ')

/** The JSON error's fields that the human report lacks (an empty list: it has them all). */
function missingFromHuman(error: ErrorJson, human: string): string[] {
  const shown = squash(human)
  const missing: string[] = []
  for (const [key, value] of Object.entries(error)) {
    if (value === null) continue
    const has = (text: string): boolean => shown.includes(squash(text))
    const ok =
      key === 'code'
        ? has(`error[${value}]`)
        : key === 'line'
          ? has(`:${value}${error.column === null ? '' : `:${error.column}`}`)
          : key === 'column'
            ? has(`:${error.line}:${value}`)
            : key === 'sqlState'
              ? has(`sqlstate: ${value}`)
              : key === 'advice'
                ? has(`help: ${value}`)
                : ['message', 'file', 'sourceLine', 'detail', 'hint', 'where'].includes(key)
                  ? has(String(value).trim())
                  : false // a field the report does not know: it must learn to draw it
    if (!ok) missing.push(`${key}=${JSON.stringify(value)}`)
  }
  return missing
}

describe.skipIf(server.skipReason || server.tier === 'pglite')('error reports', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const parity = 'the human report carries every field of the --json error'
  it(parity, { timeout: 240_000 }, async () => {
    const kinds: string[] = []
    await recordScenario(
      {
        id: 'report-parity',
        group: 'True reports',
        scenario: `${parity} (syntax error, lock timeout, refused connection, checksum mismatch, usage error, damaged embedded folder)`,
        file: FILE,
        testName: parity,
      },
      async (progress) => {
        const handle = await databases.create()
        const other = await databases.create()
        // A database of its own: the syntax error is in a pending file, not behind another folder's ledger.
        const fresh = await databases.create()
        const url = handle.url!
        const blocker = await connectClient(url)
        try {
          const syntax = await folderWith({
            '001_bad.sql': 'create table ok (id int);\ncreate tabel broken (id int);\n',
          })
          const locked = await folderWith({ '001_t.sql': 'create table t (id int);\n' })
          expect((await cli(['migrate', '--url', url, '--dir', locked])).code).toBe(0)
          await writeFile(join(locked, '002_alter.sql'), '-- waits for the table\nalter table t add column x int;\n')
          await blocker.query('begin; lock table t in access exclusive mode')
          const edited = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
          expect((await cli(['migrate', '--url', other.url!, '--dir', edited])).code).toBe(0)
          await writeFile(join(edited, '001_a.sql'), 'create table a (id bigint);\n')
          const embedded = await scratchDir('wk-damaged-')
          await writeFile(join(embedded, 'PG_VERSION'), 'garbage\n')

          const cases: Record<string, { args: string[]; env?: Record<string, string>; code: string }> = {
            'syntax error': { args: ['migrate', '--url', fresh.url!, '--dir', syntax], code: 'SQL_SYNTAX_ERROR' },
            'lock timeout': {
              args: ['migrate', '--url', url, '--dir', locked, '--lock-timeout', '300'],
              code: 'LOCK_TIMEOUT',
            },
            'refused connection': {
              args: ['status', '--url', 'postgres://someone:Pw9kT2vX@127.0.0.1:1/db', '--dir', edited],
              code: 'CONNECTION_FAILED',
            },
            'checksum mismatch': { args: ['migrate', '--url', other.url!, '--dir', edited], code: 'CHECKSUM_MISMATCH' },
            'usage error': { args: ['migrate', '--lock-timeout', 'soon', '--dir', edited], code: 'USAGE' },
            'damaged embedded folder': {
              args: ['migrate', '--embedded', '--dir', edited],
              env: { WUKONG_PGLITE_DIR: embedded },
              code: 'CONNECTION_FAILED',
            },
          }
          for (const [name, c] of Object.entries(cases)) {
            const asJson = await cli([...c.args, '--json'], { env: c.env })
            const human = await cli(c.args, { env: c.env })
            const { error, exitCode } = jsonOf<{ error: ErrorJson; exitCode: number }>(asJson)
            expect(error.code, name).toBe(c.code)
            expect(human.code, name).toBe(exitCode)
            expect(missingFromHuman(error, human.stderr), `${name}:\n${human.stderr}`).toEqual([])
            const filled = Object.entries(error).filter(([, v]) => v !== null).length
            kinds.push(`${name}: ${error.code}, ${filled} fields`)
            progress.trials++
          }
        } finally {
          await blocker.end()
          databases.release(handle)
          databases.release(other)
          databases.release(fresh)
        }
        progress.notes.push(`every non-null JSON field found in the human report: ${kinds.join('; ')}`)
      },
    )
  })

  const malformed = 'a URL that cannot be parsed prints no part of its password, in --url or DATABASE_URL'
  it(malformed, { timeout: 240_000 }, async () => {
    await recordScenario(
      {
        id: 'secrets-malformed-url',
        group: 'Secrets',
        scenario: `${malformed} (no scheme, a mangled scheme, a broken host, a bad port, bad percent-encoding; human and JSON)`,
        file: FILE,
        testName: malformed,
      },
      async (progress) => {
        const password = 'Zq7xK9mWp4Rt'
        const urls = [
          `admin:${password}@127.0.0.1:1/db`,
          `postgres//admin:${password}@127.0.0.1:1/db`,
          `postgres:/admin:${password}@127.0.0.1:1/db`,
          `postgres://admin:${password}@[::1:1/db`,
          `postgres://admin:${password}@127.0.0.1:99999/db`,
          `postgres://admin:${password.slice(0, 6)}%zz${password.slice(6)}@127.0.0.1:1/db`,
        ]
        const folder = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
        // Every run of four characters of the password: no part of it may be printed.
        const parts = [...Array(password.length - 3).keys()].map((i) => password.slice(i, i + 4))
        for (const url of urls) {
          for (const [how, args, env] of [
            ['--url', ['--url', url], {}],
            ['DATABASE_URL', [], { DATABASE_URL: url }],
          ] as const) {
            for (const json of [[], ['--json']]) {
              const run: CliRun = await cli(['migrate', ...args, '--dir', folder, ...json], { env })
              const output = run.stdout + run.stderr
              expect(run.code, `${url} via ${how}: ${output}`).not.toBe(0)
              expect(
                parts.filter((p) => output.includes(p)),
                `${url} via ${how}${json.length ? ' --json' : ''}:\n${output}`,
              ).toEqual([])
              progress.trials++
            }
          }
        }
        progress.notes.push(
          `${urls.length} malformed URLs × (--url, DATABASE_URL) × (human, --json): no 4 characters of the password printed`,
        )
      },
    )
  })

  const embeddedName =
    'the embedded database: a damaged or foreign data folder is explained, and its files are left as they were'
  it(embeddedName, { timeout: 240_000 }, async () => {
    await recordScenario(
      {
        id: 'report-embedded-folder',
        group: 'True reports',
        scenario: embeddedName,
        file: FILE,
        testName: embeddedName,
      },
      async (progress) => {
        const folder = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
        const cases: Record<string, { files: Record<string, string>; says: string }> = {
          'PG_VERSION that is no version': {
            files: { PG_VERSION: 'garbage\n' },
            says: 'its PG_VERSION file reads "garbage"',
          },
          'a PostgreSQL 14 data folder': { files: { PG_VERSION: '14\n' }, says: 'holds a PostgreSQL 14 data folder' },
          'files of something else': {
            files: { 'notes.txt': 'hello\n', global: 'not a folder\n' },
            says: 'holds no PostgreSQL data (no PG_VERSION file)',
          },
        }
        for (const [name, c] of Object.entries(cases)) {
          const dir = await scratchDir('wk-pglite-')
          await mkdir(dir, { recursive: true })
          for (const [file, text] of Object.entries(c.files)) await writeFile(join(dir, file), text)
          const run = await cli(['migrate', '--embedded', '--dir', folder, '--json'], {
            env: { WUKONG_PGLITE_DIR: dir },
          })
          const { error } = jsonOf<{ error: ErrorJson }>(run)
          expect(error.code, name).toBe('CONNECTION_FAILED')
          expect(error.message, name).toContain(c.says)
          expect(error.message, name).toContain(`move ${dir} aside`)
          // PGlite itself may add a folder or two (pg_wal); what was there stays as it was.
          expect(await readdir(dir), name).toEqual(expect.arrayContaining(Object.keys(c.files)))
          for (const [file, text] of Object.entries(c.files))
            expect(await readFile(join(dir, file), 'utf8'), name).toBe(text)
          progress.notes.push(`${name}: "${error.message.slice(error.message.indexOf(': ') + 2, 160)}…"`)
          progress.trials++
        }
      },
    )
  })
})
