import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql, type Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunError, MigrationRunner, SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'

// The runner applies files itself (one batch per file with both ledger rows); Kysely's Migrator
// over the same provider must see exactly what it would have recorded itself, and the other
// way round.
const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

async function freshDb(): Promise<Kysely<unknown>> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle.db
}

async function kyselyRows(db: Kysely<unknown>): Promise<{ name: string; timestamp: string }[]> {
  const { rows } = await sql<{
    name: string
    timestamp: string
  }>`select name, timestamp from kysely_migration order by name`.execute(db)
  return rows
}

async function sideEffects(db: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ version: number }>`select version from side_effects order by version`.execute(db)
  return rows.map((r) => r.version)
}

describe('the runner and Kysely’s Migrator share both ledgers', () => {
  it("files the runner applied are applied for Kysely's Migrator, recorded as it records them", async () => {
    const db = await freshDb()
    const folder = await migrationFolder(countedFiles(3))
    await new MigrationRunner({ db, migrationFolder: folder }).migrate()

    const rows = await kyselyRows(db)
    expect(rows.map((r) => r.name)).toEqual(['001_step_1', '002_step_2', '003_step_3'])
    // ISO timestamps as Kysely writes them, strictly increasing in file order.
    const times = rows.map((r) => new Date(r.timestamp).getTime())
    expect(rows.every((r) => new Date(r.timestamp).toISOString() === r.timestamp)).toBe(true)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(new Set(times).size).toBe(3)

    const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider({ migrationFolder: folder }) })
    expect((await migrator.getMigrations()).map((m) => [m.name, m.executedAt !== undefined])).toEqual([
      ['001_step_1', true],
      ['002_step_2', true],
      ['003_step_3', true],
    ])
    expect(await migrator.migrateToLatest()).toEqual({ results: [] })
    expect(await sideEffects(db)).toEqual([1, 2, 3])
  })

  it("a file Kysely's Migrator applied is applied for the runner, and the runner continues after it", async () => {
    const db = await freshDb()
    const folder = await migrationFolder(countedFiles(2))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    await writeFile(
      join(folder, '003_step_3.sql'),
      'create table t3 (id int primary key);\ninsert into side_effects (version) values (3);\n',
    )
    const byKysely = await new Migrator({
      db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
    }).migrateToLatest()
    expect(byKysely.results?.map((r) => [r.migrationName, r.status])).toEqual([['003_step_3', 'Success']])
    expect(await runner.migrate()).toEqual({ results: [], currentVersion: 3 })
    expect((await runner.status()).isUpToDate).toBe(true)

    await writeFile(
      join(folder, '004_step_4.sql'),
      'create table t4 (id int primary key);\ninsert into side_effects (version) values (4);\n',
    )
    expect((await runner.migrate()).results.map((r) => [r.fileName, r.status])).toEqual([['004_step_4.sql', 'applied']])
    const times = (await kyselyRows(db)).map((r) => new Date(r.timestamp).getTime())
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(await sideEffects(db)).toEqual([1, 2, 3, 4])
  })

  it('heals a file in our ledger that Kysely lacks, without running it again', async () => {
    const db = await freshDb()
    const folder = await migrationFolder(countedFiles(3))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    await sql`delete from kysely_migration where name in ('002_step_2', '003_step_3')`.execute(db)
    const { results } = await runner.migrate()
    expect(results.map((r) => [r.fileName, r.status])).toEqual([
      ['002_step_2.sql', 'healed'],
      ['003_step_3.sql', 'healed'],
    ])
    expect((await kyselyRows(db)).map((r) => r.name)).toEqual(['001_step_1', '002_step_2', '003_step_3'])
    expect(await sideEffects(db)).toEqual([1, 2, 3])
  })

  it("refuses, as Kysely's Migrator does, a new file that sorts before a recorded one, running nothing", async () => {
    const db = await freshDb()
    const folder = await migrationFolder({ '002_b.sql': 'create table b (id int);\n' })
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    await writeFile(join(folder, '001_a.sql'), 'create table a (id int);\n')
    const error = await runner.migrate().then(
      () => undefined,
      (e: unknown) => e,
    )
    // Refused before the lock, by the same order check as status and plan.
    expect(error).toBeInstanceOf(MigrationError)
    expect([(error as MigrationError).code, (error as MigrationError).file]).toEqual(['OUT_OF_ORDER', '001_a.sql'])
    const { rows } = await sql<{ a: boolean }>`select to_regclass('a') is not null as a`.execute(db)
    expect(rows[0]?.a).toBe(false)
  })

  it('a file failing in the middle of a run: the files before it stay applied in both ledgers, it names its line, nothing after it runs', async () => {
    const db = await freshDb()
    const files = countedFiles(5, (n) =>
      n === 3 ? 'insert into side_effects (version) values (33);\nselect * from no_such_table;\n' : '',
    )
    const runner = new MigrationRunner({ db, migrationFolder: await migrationFolder(files) })
    const error = await runner.migrate().then(
      () => undefined,
      (e: unknown) => e as MigrationRunError,
    )
    expect(error).toBeInstanceOf(MigrationRunError)
    expect(error!.results.map((r) => `${r.version}:${r.status}`)).toEqual([
      '1:applied',
      '2:applied',
      '3:failed',
      '4:not-run',
      '5:not-run',
    ])
    expect(error!.cause.file).toBe('003_step_3.sql')
    expect(error!.cause.line).toBe(4)
    expect(await sideEffects(db)).toEqual([1, 2])
    expect((await kyselyRows(db)).map((r) => r.name)).toEqual(['001_step_1', '002_step_2'])
    const { rows } = await sql<{ version: number }>`select version from schema_versions order by version`.execute(db)
    expect(rows.map((r) => r.version)).toEqual([1, 2])
    const { rows: open } = await sql<{
      n: number
    }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`.execute(
      db,
    )
    expect(open[0]?.n).toBe(0)
  })
})
