// A no-transaction file's CREATE INDEX CONCURRENTLY is recorded as applied only with a valid
// index. The documented rule for a leftover of an interrupted or failed build: an INVALID
// index of the name the statement builds, on its table, is dropped and built again; a named
// index that IF NOT EXISTS skipped because another relation has the name is INVALID_INDEX.
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { type MigrationError, MigrationRunner } from '../../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import { terminate, waitForBackend, withApplicationName } from '../support/backend-probe.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/invalid-index.test.ts'
const GROUP = 'Invalid indexes'
const quiet = { log: () => {} }

async function indexState(handle: TestDatabaseHandle, name: string): Promise<{ valid: boolean } | undefined> {
  const { rows } = await sql<{
    valid: boolean
  }>`select indisvalid as valid from pg_index where indexrelid = to_regclass(${name})`.execute(handle.db)
  return rows[0]
}

async function recorded(handle: TestDatabaseHandle, version: number): Promise<boolean> {
  const { rows } = await sql<{
    n: number
  }>`select count(*)::int as n from schema_versions where version = ${version}`.execute(handle.db)
  return rows[0]!.n === 1
}

async function run(runner: MigrationRunner): Promise<string> {
  return runner.migrate().then(
    () => 'applied',
    (e: MigrationError) => e.code,
  )
}

describe.skipIf(needsServer(server, 'invalid indexes'))('invalid indexes', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const interruptedName =
    'an interrupted CREATE INDEX CONCURRENTLY is rebuilt on the next run, never recorded while invalid'
  it(interruptedName, { timeout: 90_000 }, async () => {
    await recordScenario(
      {
        id: 'index-interrupted',
        group: GROUP,
        scenario: `${interruptedName} (IF NOT EXISTS; plain name)`,
        file: FILE,
        testName: interruptedName,
      },
      async (progress) => {
        for (const ifNotExists of [true, false]) {
          const handle = await databases.create()
          // The build calls slow() once per row: it sleeps as long as the control table says.
          const folder = await migrationFolder({
            '001_table.sql':
              'create table control (seconds float8);\ninsert into control values (30);\n' +
              'create function slow(x text) returns text language plpgsql immutable as $$ begin perform pg_sleep((select seconds from public.control)); return x; end $$;\n' +
              "create table t (id int, name text);\ninsert into t values (1, 'a');\n",
            '002_index.sql': `-- wukong:no-transaction\ncreate index concurrently ${ifNotExists ? 'if not exists ' : ''}t_name on t (slow(name));\n`,
          })
          const app = `wk-cic-${progress.trials}`
          const db = robustKysely(withApplicationName(handle.url!, app))
          const first = run(new MigrationRunner({ db, migrationFolder: folder, ...quiet }))
          await terminate(
            handle.db,
            (await waitForBackend(handle.db, app, (b) => b.waitEvent === 'PgSleep' && /concurrently/i.test(b.query)))
              .pid,
          )
          expect(await first).toBe('CONNECTION_FAILED')
          expect({ leftover: await indexState(handle, 't_name'), recorded: await recorded(handle, 2) }).toEqual({
            leftover: { valid: false },
            recorded: false,
          })
          await sql`update control set seconds = 0`.execute(handle.db)
          const retry = await run(new MigrationRunner({ db, migrationFolder: folder, ...quiet }))
          await db.destroy()
          // Was: IF NOT EXISTS skipped the invalid index and 002 was recorded as applied.
          expect({
            ifNotExists,
            retry,
            recorded: await recorded(handle, 2),
            index: await indexState(handle, 't_name'),
          }).toEqual({ ifNotExists, retry: 'applied', recorded: true, index: { valid: true } })
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const failedName = 'a failed unique CREATE INDEX CONCURRENTLY is not recorded, and is rebuilt once the data is fixed'
  it(failedName, { timeout: 60_000 }, async () => {
    await recordScenario(
      { id: 'index-failed-unique', group: GROUP, scenario: failedName, file: FILE, testName: failedName },
      async (progress) => {
        const handle = await databases.create()
        const folder = await migrationFolder({
          '001_table.sql': "create table t (id int, name text);\ninsert into t values (1, 'a'), (2, 'a');\n",
          '002_unique.sql':
            '-- wukong:no-transaction\ncreate unique index concurrently if not exists t_name_key on t (name);\n',
        })
        const first = run(new MigrationRunner({ db: handle.db, migrationFolder: folder, ...quiet }))
        expect(await first).toBe('MIGRATION_FAILED')
        expect({ leftover: await indexState(handle, 't_name_key'), recorded: await recorded(handle, 2) }).toEqual({
          leftover: { valid: false },
          recorded: false,
        })
        progress.trials++
        await sql`delete from t where id = 2`.execute(handle.db)
        const retry = await run(new MigrationRunner({ db: handle.db, migrationFolder: folder, ...quiet }))
        expect({ retry, recorded: await recorded(handle, 2), index: await indexState(handle, 't_name_key') }).toEqual({
          retry: 'applied',
          recorded: true,
          index: { valid: true },
        })
        progress.trials++
        databases.release(handle)
      },
    )
  })

  const clashName = 'a concurrent index whose name another relation has is INVALID_INDEX, not applied'
  it(clashName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'index-name-clash',
        group: GROUP,
        scenario: `${clashName} (an index of another table; a table)`,
        file: FILE,
        testName: clashName,
      },
      async (progress) => {
        const clashes = {
          'index of another table': 'create index t_name on other (id);\n',
          table: 'create table t_name (id int);\n',
        }
        for (const [name, clash] of Object.entries(clashes)) {
          const handle = await databases.create()
          const folder = await migrationFolder({
            '001_table.sql': `create table t (id int, name text);\ncreate table other (id int);\n${clash}`,
            '002_index.sql':
              '-- wukong:no-transaction\n\ncreate index concurrently if not exists t_name on t (name);\n',
          })
          const error = await new MigrationRunner({ db: handle.db, migrationFolder: folder, ...quiet }).migrate().then(
            () => undefined,
            (e: MigrationError) => e,
          )
          expect({
            name,
            code: error?.code,
            file: error?.file,
            line: error?.line,
            recorded: await recorded(handle, 2),
          }).toEqual({ name, code: 'INVALID_INDEX', file: '002_index.sql', line: 3, recorded: false })
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })
})
