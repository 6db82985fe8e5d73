// Reports that tell the truth: a connection lost in a file names the file and what committed;
// a migrator that waited reports the database's real version; a file numbered below an
// applied one is OUT_OF_ORDER in every command; a read-only database is diagnosed as such;
// COPY with the client is refused offline; positions after characters outside the BMP are
// right; a lock timeout names its statement and the session in the way.
import { Writable } from 'node:stream'

import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import { runCli } from '../../src/cli/run-cli.js'
import { MigrationError, type MigrationRunError, MigrationRunner, readMigrationFolder } from '../../src/index.js'
import { resolveTestServer } from '../../src/testing/test-server.js'
import { terminate, waitForBackend, withApplicationName } from '../support/backend-probe.js'
import { snapshotDatabase } from '../support/db-snapshot.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/reports.test.ts'
const GROUP = 'True reports'
const WAIT_MS = Number(process.env['WUKONG_WAIT_MS'] ?? 1_000)
const quiet = { log: () => {} }

async function failure(run: Promise<unknown>): Promise<MigrationError> {
  const result = await run.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(result).toBeInstanceOf(MigrationError)
  return result as MigrationError
}

async function cliJson(
  argv: string[],
): Promise<{ code: number; json: { error: { code: string; file: string | null; advice: string | null } | null } }> {
  let out = ''
  const sink = (write: (s: string) => void) =>
    new Writable({
      write: (chunk, _e, done) => {
        write(String(chunk))
        done()
      },
    })
  const code = await runCli([...argv, '--json'], {
    stdout: sink((s) => {
      out += s
    }),
    stderr: sink(() => {}),
    env: {},
    cwd: process.cwd(),
  })
  return { code, json: JSON.parse(out) }
}

describe.skipIf(needsServer(server, 'true reports'))('true reports', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const lostName = 'a connection lost in the middle of a file names the file and reports what committed'
  it(lostName, { timeout: 90_000 }, async () => {
    await recordScenario(
      {
        id: 'report-lost-connection',
        group: GROUP,
        scenario: `${lostName} (atomic and no-transaction files)`,
        file: FILE,
        testName: lostName,
      },
      async (progress) => {
        const cases = {
          atomic: 'create table t2 (id int);\nselect pg_sleep(seconds) from control;\n',
          'no-transaction':
            '-- wukong:no-transaction\ncreate table t2 (id int);\nselect pg_sleep(seconds) from control;\n',
        }
        for (const [name, second] of Object.entries(cases)) {
          const handle = await databases.create()
          await sql`create table control (seconds float8)`.execute(handle.db)
          await sql`insert into control values (30)`.execute(handle.db)
          const folder = await migrationFolder({
            '001_first.sql': 'create table t1 (id int);\n',
            '002_interrupted.sql': second,
          })
          const app = `wk-lost-${progress.trials}`
          const db = robustKysely(withApplicationName(handle.url!, app))
          const run = failure(new MigrationRunner({ db, migrationFolder: folder, ...quiet }).migrate())
          await terminate(handle.db, (await waitForBackend(handle.db, app, (b) => b.waitEvent === 'PgSleep')).pid)
          const error = (await run) as MigrationRunError
          await db.destroy()
          // Kysely's failed unlock on the dead connection used to hide the file's error:
          // "cannot connect to the database from the given Kysely instance", results [].
          expect({
            name,
            code: error.code,
            file: error.file,
            results: error.results.map((r) => `${r.fileName}:${r.status}`),
          }).toEqual({
            name,
            code: 'CONNECTION_FAILED',
            file: '002_interrupted.sql',
            results: ['001_first.sql:applied', '002_interrupted.sql:failed'],
          })
          expect(error.message).not.toMatch(/cannot connect/)
          expect(error.message).toContain('002_interrupted.sql')
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const waitedName = 'a migrator that waited for another reports the database’s real version'
  it(waitedName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'report-waited-version',
        group: GROUP,
        scenario: `${waitedName} (fresh database; holder in its second file)`,
        file: FILE,
        testName: waitedName,
      },
      async (progress) => {
        const cases = {
          'fresh database': {
            '001_slow.sql': 'create table a (id int);\nselect pg_sleep(1);\n',
            '002_b.sql': 'create table b (id int);\n',
          },
          'holder in 002': {
            '001_a.sql': 'create table a (id int);\n',
            '002_slow.sql': 'create table b (id int);\nselect pg_sleep(1);\n',
          },
        }
        for (const [name, files] of Object.entries(cases)) {
          const handle = await databases.create()
          const folder = await migrationFolder(files)
          const holder = new MigrationRunner({
            url: withApplicationName(handle.url!, 'wk-version-holder'),
            migrationFolder: folder,
            ...quiet,
          })
          const first = holder.migrate()
          await waitForBackend(handle.db, 'wk-version-holder', (b) => b.waitEvent === 'PgSleep')
          const waiter = new MigrationRunner({ url: handle.url!, migrationFolder: folder, ...quiet })
          const [, second] = await Promise.all([first, waiter.migrate()])
          await Promise.all([holder.close(), waiter.close()])
          // Was null (fresh database) or 1 (the version seen before waiting).
          expect({
            name,
            results: second.results.filter((r) => r.status === 'applied'),
            currentVersion: second.currentVersion,
          }).toEqual({ name, results: [], currentVersion: 2 })
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const orderName = 'a file numbered below an applied one is OUT_OF_ORDER in migrate, plan and status'
  it(orderName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'report-out-of-order',
        group: GROUP,
        scenario: `${orderName} (API and CLI --json)`,
        file: FILE,
        testName: orderName,
      },
      async (progress) => {
        const handle = await databases.create()
        const applied = { '001_a.sql': 'create table a (id int);\n', '003_c.sql': 'create table c (id int);\n' }
        await new MigrationRunner({
          db: handle.db,
          migrationFolder: await migrationFolder(applied),
          ...quiet,
        }).migrate()
        const folder = await migrationFolder({ ...applied, '002_late.sql': 'create table late (id int);\n' })
        const before = await snapshotDatabase(handle.db)
        const api: Record<string, (r: MigrationRunner) => Promise<unknown>> = {
          migrate: (r) => r.migrate(),
          plan: (r) => r.plan(),
          // status reports what migrate would refuse with, rather than throw it
          status: async (r) => {
            throw (await r.status()).refusal
          },
        }
        for (const [name, call] of Object.entries(api)) {
          for (const given of [true, false]) {
            const runner = new MigrationRunner({
              ...(given ? { db: handle.db } : { url: handle.url! }),
              migrationFolder: folder,
              ...quiet,
            })
            const error = await failure(call(runner))
            await runner.close()
            expect({ name, code: error.code, file: error.file }).toEqual({
              name,
              code: 'OUT_OF_ORDER',
              file: '002_late.sql',
            })
            expect(error.message).toMatch(/version 3 already is/)
            progress.trials++
          }
        }
        const status = await cliJson(['status', '--check', '--dir', folder, '--url', handle.url!])
        expect(status.code).toBe(3)
        expect((status.json as { outOfOrder?: { fileName: string }[] }).outOfOrder?.map((f) => f.fileName)).toEqual([
          '002_late.sql',
        ])
        for (const command of ['migrate', 'plan']) {
          const { code, json } = await cliJson([command, '--dir', folder, '--url', handle.url!])
          expect({ command, code, error: json.error?.code, file: json.error?.file }).toEqual({
            command,
            code: 1,
            error: 'OUT_OF_ORDER',
            file: '002_late.sql',
          })
          expect(json.error?.advice).toMatch(/renumber/)
          progress.trials++
        }
        expect(await snapshotDatabase(handle.db)).toBe(before)
        databases.release(handle)
      },
    )
  })

  const readOnlyName = 'a read-only database is diagnosed as READ_ONLY_DATABASE, not blamed on a file'
  it(readOnlyName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'report-read-only',
        group: GROUP,
        scenario: `${readOnlyName} (fresh database, atomic file, no-transaction file)`,
        file: FILE,
        testName: readOnlyName,
      },
      async (progress) => {
        const base = { '001_a.sql': 'create table a (id int);\n' }
        const cases: Record<string, { migrated: boolean; next: string }> = {
          'fresh database': { migrated: false, next: 'create table b (id int);\n' },
          'atomic file': { migrated: true, next: 'create table b (id int);\n' },
          'no-transaction file': {
            migrated: true,
            next: '-- wukong:no-transaction\ncreate index concurrently if not exists a_id on a (id);\n',
          },
        }
        for (const [name, c] of Object.entries(cases)) {
          const handle = await databases.create()
          if (c.migrated)
            await new MigrationRunner({
              db: handle.db,
              migrationFolder: await migrationFolder(base),
              ...quiet,
            }).migrate()
          const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(handle.db)
          await sql.raw(`alter database "${rows[0]!.name}" set default_transaction_read_only = on`).execute(handle.db)
          const folder = await migrationFolder({ ...base, '002_b.sql': c.next })
          const runner = new MigrationRunner({ url: handle.url!, migrationFolder: folder, ...quiet })
          const error = await failure(runner.migrate())
          // Reading still works: status tells where the database stands.
          const status = await runner.status()
          await runner.close()
          await sql.raw(`alter database "${rows[0]!.name}" reset default_transaction_read_only`).execute(handle.db)
          expect({ name, code: error.code, file: error.file }).toEqual({
            name,
            code: 'READ_ONLY_DATABASE',
            file: undefined,
          })
          expect(error.message).toMatch(/read-only/)
          expect(status.pending.map((p) => p.fileName)).toContain('002_b.sql')
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const copyName = 'COPY from or to the client is refused offline with line:column'
  it(copyName, async () => {
    await recordScenario(
      { id: 'report-copy', group: GROUP, scenario: copyName, file: FILE, testName: copyName },
      async (progress) => {
        const cases: Record<string, [string, number, number]> = {
          'copy from stdin': ['create table t (a int);\ncopy t from stdin;\n', 2, 1],
          'COPY … FROM STDIN WITH csv': ['create table t (a int);\n  COPY t (a) FROM STDIN WITH (FORMAT csv);\n', 2, 3],
          'copy to stdout': ['create table t (a int);\nselect 1;\ncopy t to stdout;\n', 3, 1],
        }
        for (const [name, [text, line, column]] of Object.entries(cases)) {
          const error = await failure(readMigrationFolder(await migrationFolder({ '001_copy.sql': text })))
          expect({ name, code: error.code, line: error.line, column: error.column }).toEqual({
            name,
            code: 'UNSUPPORTED_STATEMENT',
            line,
            column,
          })
          progress.trials++
        }
      },
    )
  })

  const bmpName = 'line:column stay right after characters outside the BMP'
  it(bmpName, async () => {
    await recordScenario(
      {
        id: 'report-non-bmp',
        group: GROUP,
        scenario: `${bmpName} (syntax error, atomic file, no-transaction file)`,
        file: FILE,
        testName: bmpName,
      },
      async (progress) => {
        const syntax = await failure(
          readMigrationFolder(
            await migrationFolder({
              '001_a.sql': "-- 🎉 launch\ncomment on schema public is '🎉🎉';\nselect * fromm x;\n",
            }),
          ),
        )
        expect([syntax.code, syntax.line, syntax.column]).toEqual(['SQL_SYNTAX_ERROR', 3, 10])
        progress.trials++
        const runtime: Record<string, [string, number, number]> = {
          atomic: [
            "-- 🎉 launch\ncreate table t (id int);\ncomment on table t is '🎉🎉🎉🎉';\nselect nope from t;\n",
            4,
            8,
          ],
          'no-transaction': [
            "-- wukong:no-transaction\ncomment on schema public is '𝔘𝔫𝔦𝔠𝔬𝔡𝔢';\nselect 1 from (select 1) s where nope > 0;\n",
            3,
            34,
          ],
        }
        for (const [name, [text, line, column]] of Object.entries(runtime)) {
          const handle = await databases.create()
          const error = await failure(
            new MigrationRunner({
              db: handle.db,
              migrationFolder: await migrationFolder({ '001_a.sql': text }),
              ...quiet,
            }).migrate(),
          )
          expect({ name, code: error.code, line: error.line, column: error.column }).toEqual({
            name,
            code: 'MIGRATION_FAILED',
            line,
            column,
          })
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const lockName = 'a lock timeout names its statement (line:column) and the session holding the table'
  it(lockName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'report-lock-timeout',
        group: GROUP,
        scenario: `${lockName} (atomic ALTER, foreign key to the table, no-transaction file)`,
        file: FILE,
        testName: lockName,
      },
      async (progress) => {
        const base = { '001_busy.sql': 'create table busy (id int primary key);\n' }
        const cases: Record<string, [string, number, number]> = {
          'atomic ALTER TABLE': ['create table t2 (id int);\nalter table busy add column w int;\n', 2, 1],
          'foreign key to the table': [
            'create table t2 (id int);\n\n  create table t3 (b int references busy);\n',
            3,
            3,
          ],
          'no-transaction file': [
            '-- wukong:no-transaction\ncreate table t2 (id int);\nalter table busy add column w int;\n',
            3,
            1,
          ],
        }
        for (const [name, [text, line, column]] of Object.entries(cases)) {
          const handle = await databases.create()
          await new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(base), ...quiet }).migrate()
          const holder = new pg.Client({ connectionString: withApplicationName(handle.url!, 'wk-busy-holder') })
          await holder.connect()
          const { rows } = await holder.query<{ pid: number }>('select pg_backend_pid() as pid')
          await holder.query('begin')
          await holder.query('lock table busy in access exclusive mode')
          const error = await failure(
            new MigrationRunner({
              db: handle.db,
              migrationFolder: await migrationFolder({ ...base, '002_alter.sql': text }),
              timeouts: { lockMs: WAIT_MS },
              ...quiet,
            }).migrate(),
          )
          await holder.end()
          expect({ name, code: error.code, file: error.file, line: error.line, column: error.column }).toEqual({
            name,
            code: 'LOCK_TIMEOUT',
            file: '002_alter.sql',
            line,
            column,
          })
          expect(error.message).toContain(`"busy" is locked (AccessExclusiveLock) by backend pid ${rows[0]!.pid}`)
          expect(error.message).toContain('wk-busy-holder')
          progress.notes.push(`${name}: ${error.message}`)
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })
})
