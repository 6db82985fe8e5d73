// Inputs the reader must treat exactly like their plain twins (CR line endings), version 000,
// and what a run reports when Kysely cannot record a file that committed.
import { type Kysely, sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunError, MigrationRunner } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { describeError } from '../src/cli/describe-error.js'
import { migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

async function freshDb(): Promise<TestDatabaseHandle> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle
}

function runner(db: Kysely<any>, folder: string): MigrationRunner {
  return new MigrationRunner({ db, migrationFolder: folder, log: () => {} })
}

async function tables(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{
    t: string
  }>`select tablename as t from pg_tables where schemaname = 'public' and tablename like 'cr%' order by 1`.execute(db)
  return rows.map((r) => r.t)
}

describe.skipIf(needsServer(server, 'CR line endings behave like LF'))('CR line endings behave like LF', () => {
  const body = (ending: string, directive: boolean): string =>
    [
      ...(directive ? ['-- wukong:no-transaction'] : []),
      '-- first table',
      'create table cr_a (id int);',
      '-- second table',
      'create table cr_b (id int);',
      '',
    ].join(ending)

  for (const directive of [false, true]) {
    it(`${directive ? 'a non-atomic' : 'an atomic'} file runs every statement after a comment ended by a bare CR`, async () => {
      const cr = await freshDb()
      const lf = await freshDb()
      const crResult = await runner(cr.db, await migrationFolder({ '001_a.sql': body('\r', directive) })).migrate()
      await runner(lf.db, await migrationFolder({ '001_a.sql': body('\n', directive) })).migrate()
      expect(crResult.results.map((r) => [r.status, r.atomic])).toEqual([['applied', !directive]])
      expect(await tables(cr.db)).toEqual(['cr_a', 'cr_b'])
      expect(await tables(cr.db)).toEqual(await tables(lf.db))
    })
  }

  for (const directive of [false, true]) {
    it(`a failing statement in ${directive ? 'a non-atomic' : 'an atomic'} CR file is reported at the same line:column as in its LF twin`, async () => {
      const text = (ending: string) =>
        [
          ...(directive ? ['-- wukong:no-transaction'] : []),
          '-- make it',
          'create table cr_x (id int);',
          '-- again',
          '  create table cr_x (id int);',
          '',
        ].join(ending)
      const at: [number, number][] = []
      for (const ending of ['\r', '\n']) {
        const handle = await freshDb()
        const error = (await runner(handle.db, await migrationFolder({ '001_a.sql': text(ending) }))
          .migrate()
          .catch((e: unknown) => e)) as MigrationRunError
        expect(error).toBeInstanceOf(MigrationRunError)
        at.push([error.line!, error.column!])
        expect(describeError(error, { folder: null, target: null }).sourceLine).toBe('  create table cr_x (id int);')
      }
      expect(at).toEqual([
        [directive ? 5 : 4, 3],
        [directive ? 5 : 4, 3],
      ])
    })
  }
})

describe.skipIf(needsServer(server, 'version 000'))('version 000', () => {
  it('applies first, and down --to 0 reverts it too (0 means before every file)', async () => {
    const handle = await freshDb()
    const folder = await migrationFolder({
      '000_base.sql': 'create table base (id int);\n',
      '000_base.down.sql': 'drop table base;\n',
      '001_more.sql': 'create table more (id int);\n',
      '001_more.down.sql': 'drop table more;\n',
    })
    const up = await runner(handle.db, folder).migrate()
    expect(up).toMatchObject({
      currentVersion: 1,
      results: [
        { version: 0, status: 'applied' },
        { version: 1, status: 'applied' },
      ],
    })
    const down = await runner(handle.db, folder).migrateTo(0)
    expect(down.results.map((r) => [r.version, r.status])).toEqual([
      [1, 'reverted'],
      [0, 'reverted'],
    ])
    expect(down.currentVersion).toBeNull()
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from schema_versions`.execute(handle.db)
    expect(rows[0]!.n).toBe(0)
    expect((await runner(handle.db, folder).status()).pending.map((p) => p.version)).toEqual([0, 1])
  })
})

describe.skipIf(needsServer(server, 'a file committed, then Kysely could not record it'))(
  'a file committed, then Kysely could not record it',
  () => {
    it('a no-transaction file is reported applied, as schema_versions says, and the next migrate records it without running it again', async () => {
      const handle = await freshDb()
      // Dynamic SQL is out of the parser's sight: the one way left to drop Kysely's table.
      const folder = await migrationFolder({
        '001_a.sql': 'create table runs (n int);\ninsert into runs values (1);\n',
        '002_b.sql':
          "-- wukong:no-transaction\ninsert into runs values (2);\ndo $$ begin execute 'drop table ' || 'kysely_' || 'migration'; end $$;\n",
        '003_c.sql': 'insert into runs values (3);\n',
      })
      const error = (await runner(handle.db, folder)
        .migrate()
        .catch((e: unknown) => e)) as MigrationRunError
      expect(error).toBeInstanceOf(MigrationRunError)
      expect([error.code, error.file]).toEqual(['BOOKKEEPING_FAILED', '002_b.sql'])
      expect(error.results.map((r) => [r.fileName, r.status])).toEqual([
        ['001_a.sql', 'applied'],
        ['002_b.sql', 'applied'],
        ['003_c.sql', 'not-run'],
      ])
      const info = describeError(error, { folder, target: null })
      expect(info.advice).toMatch(/is applied and will not run again/)
      expect(info.advice).not.toMatch(/nothing of/)

      const again = await runner(handle.db, folder).migrate()
      expect(again.results.map((r) => [r.fileName, r.status])).toEqual([
        ['001_a.sql', 'healed'],
        ['002_b.sql', 'healed'],
        ['003_c.sql', 'applied'],
      ])
      const { rows } = await sql<{ n: number }>`select n from runs order by n`.execute(handle.db)
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3])
      expect((await runner(handle.db, folder).status()).isUpToDate).toBe(true)
    })

    it("a transactional file that breaks Kysely's ledger rolls back with it: failed, named, nothing of it kept", async () => {
      const handle = await freshDb()
      const folder = await migrationFolder({
        '001_a.sql': 'create table runs (n int);\ninsert into runs values (1);\n',
        '002_b.sql':
          "insert into runs values (2);\ndo $$ begin execute 'drop table ' || 'kysely_' || 'migration'; end $$;\n",
        '003_c.sql': 'insert into runs values (3);\n',
      })
      const error = (await runner(handle.db, folder)
        .migrate()
        .catch((e: unknown) => e)) as MigrationRunError
      expect(error).toBeInstanceOf(MigrationRunError)
      expect(error.file).toBe('002_b.sql')
      expect(error.message).toMatch(/kysely_migration/)
      expect(error.results.map((r) => [r.fileName, r.status])).toEqual([
        ['001_a.sql', 'applied'],
        ['002_b.sql', 'failed'],
        ['003_c.sql', 'not-run'],
      ])
      const { rows } = await sql<{ n: number }>`select n from runs order by n`.execute(handle.db)
      expect(rows.map((r) => r.n)).toEqual([1])
      const { rows: kysely } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        handle.db,
      )
      expect(kysely.map((r) => r.name)).toEqual(['001_a'])
      const status = await runner(handle.db, folder).status()
      expect(status.pending.map((p) => p.version)).toEqual([2, 3])
    })
  },
)
