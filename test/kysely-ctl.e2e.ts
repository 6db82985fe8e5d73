// The repository's kysely.config.ts driving the real kysely-ctl CLI (`npx kysely …`) as a
// subprocess against a fresh database on the real server.
import { spawn } from 'node:child_process'

import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()

interface Run {
  readonly code: number | null
  readonly out: string
}

/**
 * `npx kysely <args>`, bounded in time, with only the database variables given here, and
 * without vitest's variables (consola, kysely-ctl's logger, goes quiet in a test environment).
 */
function kysely(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const inherited = (k: string): boolean => !/^(POSTGRES_|WUKONG_|VITEST)/.test(k) && k !== 'TEST' && k !== 'NODE_ENV'
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => inherited(k)))
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no', 'kysely', ...args, '--no-outdated-check'], {
      env: { ...base, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

async function column(db: Kysely<unknown>, query: string): Promise<unknown[]> {
  const { rows } = await sql.raw<Record<string, unknown>>(query).execute(db)
  return rows.map((r) => Object.values(r)[0])
}

describe.skipIf(needsServer(server, 'kysely-ctl with kysely.config.ts'))('kysely-ctl with kysely.config.ts', () => {
  let handle: TestDatabaseHandle
  beforeAll(async () => {
    handle = await server.createDatabase()
  })
  afterAll(() => handle?.destroy())

  // Three subprocesses; each loads kysely.config.ts through jiti (about 4 s alone, more under
  // load), hence the longer bound.
  it('migrate:latest applies the files with both ledgers in step, a failing file stops it, migrate:list tells which', {
    timeout: 120_000,
  }, async () => {
    const files = countedFiles(3)
    const env = { POSTGRES_URL_NON_POOLING: handle.url!, WUKONG_MIGRATIONS_DIR: await migrationFolder(files) }

    const latest = await kysely(['migrate:latest'], env)
    expect(latest.code, latest.out).toBe(0)
    expect(latest.out).toMatch(/Ran 3 migrations/)
    expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual([1, 2, 3])
    expect(await column(handle.db, 'select name from kysely_migration order by name')).toEqual([
      '001_step_1',
      '002_step_2',
      '003_step_3',
    ])
    expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3])

    // The same files plus one that fails: kysely-ctl reports it and exits non-zero; nothing
    // of the failed file remains and the applied ones are untouched.
    const failing = {
      ...env,
      WUKONG_MIGRATIONS_DIR: await migrationFolder({
        ...files,
        '004_breaks.sql': 'create table t4 (id int);\nselect 1 / 0;\n',
      }),
    }
    const broken = await kysely(['migrate:latest'], failing)
    expect(broken.code, broken.out).not.toBe(0)
    expect(broken.out).toMatch(/004_breaks\.sql:2:\d+: division by zero/)
    expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual([1, 2, 3])
    expect(await column(handle.db, "select to_regclass('t4')::text")).toEqual([null])
    expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3])

    const list = await kysely(['migrate:list'], failing)
    expect(list.code, list.out).toBe(0)
    // consola prints `[✓] name` on a terminal and "[log] [`✓`] name" when CI=true: compare the
    // marks, not the decoration.
    const marks = [...list.out.matchAll(/\[`?(✓| )`?\] (\d{3}_\w+)/g)].map((m) => `${m[1]} ${m[2]}`)
    expect(marks, list.out).toEqual(['✓ 001_step_1', '✓ 002_step_2', '✓ 003_step_3', '  004_breaks'])
  })
})
