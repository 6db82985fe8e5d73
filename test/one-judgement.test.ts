import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql, type Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunner, SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { snapshotDatabase } from './support/db-snapshot.js'
import { migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'
import { runCliHere } from './support/run-cli-in-process.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

const A = 'create table a (id int primary key);\n'
const B = 'create table b (id int primary key);\n'
const C = 'create table c (id int primary key);\n'

/** A tricky case: a database migrated from `applied`, then the folder changed by `change`. */
interface Case {
  readonly applied: Record<string, string>
  readonly change?: (dir: string, db: Kysely<unknown>) => Promise<void>
  /** What every database entry point must say: refuse with this code, or find these pending files. */
  readonly refusal?: string
  readonly pending?: readonly string[]
  /** The verdict list of status() that must name the case. */
  readonly listed?: 'renamed' | 'drifted' | 'missing' | 'outOfOrder'
  /** Down runs refuse with this code (default: the same refusal, except out-of-order files). */
  readonly downRefusal?: string | null
  /** What verify (offline) says: undefined passes. */
  readonly verify?: string
}

const cases: Record<string, Case> = {
  'a file renamed after it was applied': {
    applied: { '001_a.sql': A, '002_b.sql': B },
    change: (dir) => rename(join(dir, '002_b.sql'), join(dir, '002_bee.sql')),
    refusal: 'RENAMED_MIGRATION_FILE',
    listed: 'renamed',
  },
  'a file renamed and a new one added after it': {
    applied: { '001_a.sql': A, '002_b.sql': B },
    change: async (dir) => {
      await rename(join(dir, '001_a.sql'), join(dir, '001_first.sql'))
      await writeFile(join(dir, '003_c.sql'), C)
    },
    refusal: 'RENAMED_MIGRATION_FILE',
    listed: 'renamed',
  },
  'an applied file edited': {
    applied: { '001_a.sql': A, '002_b.sql': B },
    change: (dir) => writeFile(join(dir, '002_b.sql'), `${B}-- a comment changes the checksum\n`),
    refusal: 'CHECKSUM_MISMATCH',
    listed: 'drifted',
  },
  'an applied file deleted': {
    applied: { '001_a.sql': A, '002_b.sql': B },
    change: (dir) => rm(join(dir, '002_b.sql')),
    refusal: 'MISSING_MIGRATION_FILE',
    listed: 'missing',
  },
  'a new file numbered below an applied one': {
    applied: { '001_a.sql': A, '003_c.sql': C },
    change: (dir) => writeFile(join(dir, '002_b.sql'), B),
    refusal: 'OUT_OF_ORDER',
    listed: 'outOfOrder',
    downRefusal: 'NO_DOWN_FILE',
  },
  'a gap in the numbers, nothing new': {
    applied: { '001_a.sql': A, '003_c.sql': C },
    pending: [],
    downRefusal: 'NO_DOWN_FILE',
  },
  'a new file after the applied ones': {
    applied: { '001_a.sql': A },
    change: (dir) => writeFile(join(dir, '002_b.sql'), B),
    pending: ['002_b.sql'],
    downRefusal: 'NO_DOWN_FILE',
  },
  'a version larger than the ledger can hold': {
    applied: { '0000000001_a.sql': A },
    change: (dir) => writeFile(join(dir, '9000000000_b.sql'), B),
    refusal: 'VERSION_OUT_OF_RANGE',
    verify: 'VERSION_OUT_OF_RANGE',
  },
  'a legacy ledger whose version column is smallint, and a version above it': {
    applied: {},
    change: async (dir, db) => {
      await sql`create table schema_versions (version smallint primary key, description text not null, applied_at timestamptz default now())`.execute(
        db,
      )
      await writeFile(join(dir, '00001_a.sql'), A)
      await writeFile(join(dir, '40000_b.sql'), B)
    },
    refusal: 'VERSION_OUT_OF_RANGE',
  },
  'a legacy ledger whose version column is text': {
    applied: {},
    change: async (dir, db) => {
      await sql`create table schema_versions (version text primary key, description text, applied_at timestamptz)`.execute(
        db,
      )
      await sql`insert into schema_versions (version, description) values ('001', 'initial')`.execute(db)
      await writeFile(join(dir, '001_a.sql'), A)
    },
    refusal: 'LEDGER_SHAPE',
  },
  'a legacy ledger without a key on version': {
    applied: {},
    change: async (dir, db) => {
      await sql`create table schema_versions (version integer, description text, applied_at timestamptz)`.execute(db)
      await writeFile(join(dir, '001_a.sql'), A)
    },
    refusal: 'LEDGER_SHAPE',
  },
  'ledgers in two schemas': {
    applied: { '001_a.sql': A },
    change: async (_dir, db) => {
      await sql`create schema app`.execute(db)
      await sql`create table app.schema_versions (version integer primary key, description text not null)`.execute(db)
    },
    refusal: 'AMBIGUOUS_LEDGER',
    downRefusal: 'AMBIGUOUS_LEDGER',
  },
}

async function prepare(c: Case): Promise<{ handle: TestDatabaseHandle; dir: string }> {
  const handle = await server.createDatabase()
  handles.push(handle)
  const dir = await migrationFolder(c.applied)
  if (Object.keys(c.applied).length) {
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: dir })
    await runner.migrate()
  }
  await c.change?.(dir, handle.db)
  return { handle, dir }
}

/** A snapshot without Kysely's own tables (its Migrator creates them before asking any provider). */
function withoutKysely(snapshot: string): string {
  return snapshot
    .split('\n')
    .filter((line) => !line.includes('kysely_migration'))
    .join('\n')
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run()
    return undefined
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

describe('every entry point gives the same verdict', () => {
  it.each(Object.entries(cases))('%s', async (_name, c) => {
    const { handle, dir } = await prepare(c)
    const db = handle.db
    const runner = (): MigrationRunner => new MigrationRunner({ db, migrationFolder: dir })
    const before = await snapshotDatabase(db)

    // verify: offline, the folder alone
    expect(await codeOf(() => runner().verify())).toBe(c.verify)
    if (c.verify) {
      expect(await codeOf(() => runner().status())).toBe(c.verify)
      expect(await codeOf(() => runner().migrate())).toBe(c.verify)
      expect(await snapshotDatabase(db)).toBe(before)
      return
    }

    // status: reports, never refuses; its refusal is what migrate refuses with
    const status = await runner()
      .status()
      .catch((error: { code: string }) => ({ thrown: error.code }))
    if ('thrown' in status) {
      expect(status.thrown).toBe(c.refusal)
    } else {
      expect(status.refusal?.code).toBe(c.refusal)
      expect(status.isUpToDate).toBe(c.pending !== undefined && c.pending.length === 0)
      if (c.listed) expect(status[c.listed].length).toBeGreaterThan(0)
      if (c.pending) expect(status.pending.map((p) => p.fileName)).toEqual(c.pending)
    }
    // The command line, where the database has a URL (an embedded PGlite test database has none).
    if (handle.url) {
      const cli = await runCliHere(['status', '--check', '--json', '--dir', dir, '--url', handle.url])
      expect(cli.code).toBe(c.pending?.length === 0 ? 0 : c.refusal === 'AMBIGUOUS_LEDGER' ? 1 : 3)
    }

    // plan and migrate (its up-to-date check first, then the planner) refuse alike
    const planned = await runner()
      .plan()
      .then((p) => p.map((f) => f.fileName))
      .catch((error: { code: string }) => error.code)
    expect(planned).toEqual(c.refusal ?? c.pending)
    const down = c.downRefusal === undefined ? c.refusal : c.downRefusal
    expect(await codeOf(() => runner().down())).toBe(down)
    expect(await codeOf(() => runner().migrateTo(0))).toBe(down)
    // Kysely's Migrator over the provider (as kysely-ctl drives it) refuses too, or finds nothing
    // to run: it changes nothing but its own bookkeeping tables, which it always creates first.
    if (c.refusal) {
      const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider({ migrationFolder: dir }) })
      const { error, results } = await migrator.migrateToLatest()
      expect(error !== undefined || results?.length === 0).toBe(true)
      expect(withoutKysely(await snapshotDatabase(db))).toBe(withoutKysely(before))
      const beforeRunner = await snapshotDatabase(db)
      expect(await codeOf(() => runner().migrate())).toBe(c.refusal)
      expect(await snapshotDatabase(db)).toBe(beforeRunner)
    } else {
      const result = await runner().migrate()
      expect(result.results.map((r) => r.fileName)).toEqual(c.pending)
      expect((await runner().status()).isUpToDate).toBe(true)
    }
  })
})

describe('the ledgers have one home', () => {
  it.skipIf(needsServer(server, 'a connection whose search_path names another schema'))(
    'a connection whose search_path names another schema reads and writes the ledgers where they are',
    async () => {
      const handle = await server.createDatabase()
      handles.push(handle)
      const dir = await migrationFolder({ '001_a.sql': A })
      await new MigrationRunner({ db: handle.db, migrationFolder: dir }).migrate()
      await sql`create schema app`.execute(handle.db)
      await writeFile(join(dir, '002_b.sql'), 'create table public.b (id int primary key);\n')
      const url = new URL(handle.url!)
      url.searchParams.set('options', '-c search_path=app')
      const runner = new MigrationRunner({ url: url.toString(), migrationFolder: dir, log: () => {} })
      try {
        expect((await runner.status()).pending.map((p) => p.fileName)).toEqual(['002_b.sql'])
        expect((await runner.migrate()).results.map((r) => [r.fileName, r.status])).toEqual([['002_b.sql', 'applied']])
        expect(await runner.migrate()).toEqual({ results: [], currentVersion: 2 })
      } finally {
        await runner.close()
      }
      const { rows } = await sql<{ schema: string }>`
      select distinct n.nspname as schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relname in ('schema_versions', 'kysely_migration')`.execute(handle.db)
      expect(rows).toEqual([{ schema: 'public' }])
    },
  )

  it('a set given its own ledger schema keeps its ledgers there, apart from the package’s', async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const dir = await migrationFolder({ '001_a.sql': A })
    await new MigrationRunner({ db: handle.db, migrationFolder: dir, ledgerSchema: 'wukong' }).migrate()
    const { rows } = await sql<{ v: number }>`select version as v from wukong.schema_versions`.execute(handle.db)
    expect(rows).toEqual([{ v: 1 }])
    // Given again, the set is found there; without it, the package's own ledgers are another set.
    await writeFile(join(dir, '002_b.sql'), B)
    const again = await new MigrationRunner({ db: handle.db, migrationFolder: dir, ledgerSchema: 'wukong' }).migrate()
    expect(again.results.map((r) => r.fileName)).toEqual(['002_b.sql'])
    const other = await new MigrationRunner({
      db: handle.db,
      migrationFolder: await migrationFolder({ '001_c.sql': C }),
    })
    expect((await other.migrate()).results.map((r) => r.fileName)).toEqual(['001_c.sql'])
    const status = await other.status()
    expect({ ledgerSchema: status.ledgerSchema, otherSets: status.otherSets }).toEqual({
      ledgerSchema: 'public',
      otherSets: ['wukong'],
    })
  })
})

describe('the ledgers are checked inside each file’s transaction', () => {
  const sneaky = (table: string): string =>
    `create table t (id int);\ndo $$ begin execute 'delete from ' || '${table}'; end $$;\n`

  it.each([
    ['deletes a schema_versions row through SQL built at run time', sneaky('schema_versions where version = 1')],
    ['deletes a kysely_migration row through SQL built at run time', sneaky('kysely_migration')],
    [
      'inserts a schema_versions row through SQL built at run time',
      "create table t (id int);\ndo $$ begin execute 'insert into ' || 'schema_versions (version, description) values (77, $x$x$x$)'; end $$;\n",
    ],
  ])('a file that %s is rolled back with LEDGER_WRITE naming it', async (_name, text) => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const dir = await migrationFolder({ '001_a.sql': A, '002_sneaky.sql': text })
    const error = await new MigrationRunner({ db: handle.db, migrationFolder: dir }).migrate().catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'LEDGER_WRITE', file: '002_sneaky.sql' })
    const { rows } = await sql<{ v: number }>`select version as v from schema_versions order by 1`.execute(handle.db)
    expect(rows).toEqual([{ v: 1 }])
    expect((await sql`select to_regclass('t') as t`.execute(handle.db)).rows).toEqual([{ t: null }])
  })

  it('a down file that writes a ledger row through SQL built at run time is rolled back too', async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const dir = await migrationFolder({
      '001_a.sql': A,
      '002_b.sql': B,
      '002_b.down.sql':
        "drop table b;\ndo $$ begin execute 'delete from ' || 'schema_versions where version = 1'; end $$;\n",
    })
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: dir })
    await runner.migrate()
    const error = await runner.down().catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'LEDGER_WRITE', file: '002_b.down.sql' })
    expect((await runner.status()).applied.map((a) => a.version)).toEqual([1, 2])
  })
})
