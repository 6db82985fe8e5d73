import { readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql, type Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunError, MigrationRunner, SqlFileMigrationProvider, type MigrationError } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'

// A provider or runner that lives as long as a dev server or a test suite sees the folder as it
// is now on every call: files added, edited (even to the same size with the old modification
// time put back), replaced, or removed since its last call.
const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

async function freshDb(): Promise<TestDatabaseHandle> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle
}

async function sideEffects(db: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ version: number }>`select version from side_effects order by version`.execute(db)
  return rows.map((r) => r.version)
}

// A whole second, so that a modification time put back is exactly the one read before.
const AN_HOUR_AGO = Math.floor(Date.now() / 1000) - 3600

/**
 * Gives every file of the folder the same old modification time, so that a later edit that
 * puts it back could only be caught by reading the file again.
 */
async function ageFolder(folder: string, names: readonly string[]): Promise<void> {
  for (const name of names) await utimes(join(folder, name), AN_HOUR_AGO, AN_HOUR_AGO)
}

/** Rewrites a file with text of the same length and puts its old modification time back. */
async function editKeepingSizeAndMtime(path: string, from: string, to: string): Promise<void> {
  expect(to).toHaveLength(from.length)
  const before = await stat(path)
  const text = await readFile(path, 'utf8')
  expect(text).toContain(from)
  await writeFile(path, text.replace(from, to))
  await utimes(path, AN_HOUR_AGO, AN_HOUR_AGO)
  const after = await stat(path)
  expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino])
}

async function failure(run: Promise<unknown>): Promise<MigrationError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e as MigrationError,
  )
  expect(error, 'expected the call to fail').toBeDefined()
  return error!
}

describe('a long-lived runner or provider sees the folder as it is now', () => {
  it('runner: a file added after the first migrate() is pending, then applied', async () => {
    const { db } = await freshDb()
    const folder = await migrationFolder(countedFiles(2))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    expect((await runner.migrate()).currentVersion).toBe(2)
    expect(await runner.migrate()).toEqual({ results: [], currentVersion: 2 })

    await writeFile(
      join(folder, '003_step_3.sql'),
      'create table t3 (id int primary key);\ninsert into side_effects (version) values (3);\n',
    )
    expect((await runner.status()).pending.map((p) => p.fileName)).toEqual(['003_step_3.sql'])
    expect((await runner.plan()).map((p) => p.fileName)).toEqual(['003_step_3.sql'])
    const { results, currentVersion } = await runner.migrate()
    expect(results.map((r) => [r.fileName, r.status])).toEqual([['003_step_3.sql', 'applied']])
    expect(currentVersion).toBe(3)
    expect(await sideEffects(db)).toEqual([1, 2, 3])
  })

  it("Kysely's Migrator over one provider: a file added between two runs is applied", async () => {
    const { db } = await freshDb()
    const folder = await migrationFolder(countedFiles(1))
    const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider({ migrationFolder: folder }) })
    expect((await migrator.migrateToLatest()).results?.map((r) => r.status)).toEqual(['Success'])
    await writeFile(
      join(folder, '002_step_2.sql'),
      'create table t2 (id int primary key);\ninsert into side_effects (version) values (2);\n',
    )
    const second = await migrator.migrateToLatest()
    expect(second.error).toBeUndefined()
    expect(second.results?.map((r) => [r.migrationName, r.status])).toEqual([['002_step_2', 'Success']])
    expect(await sideEffects(db)).toEqual([1, 2])
  })

  it('an applied file edited to the same size with its modification time put back is drift', async () => {
    const { db } = await freshDb()
    const files = countedFiles(3)
    const folder = await migrationFolder(files)
    await ageFolder(folder, Object.keys(files))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    const path = join(folder, '002_step_2.sql')
    const before = runner.provider.scanFiles().find((f) => f.version === 2)!.checksum
    await editKeepingSizeAndMtime(path, 'create table t2', 'create table u2')

    expect(runner.provider.scanFiles().find((f) => f.version === 2)!.checksum).not.toBe(before)
    const error = await failure(runner.migrate())
    expect(error.code).toBe('CHECKSUM_MISMATCH')
    expect(error.file).toBe('002_step_2.sql')
    expect((await runner.status()).drifted.map((d) => d.fileName)).toEqual(['002_step_2.sql'])
    expect(await sideEffects(db)).toEqual([1, 2, 3])
  })

  it('an applied file replaced by another (rename over it, same size and time) is drift', async () => {
    const { db } = await freshDb()
    const files = countedFiles(2)
    const folder = await migrationFolder(files)
    await ageFolder(folder, Object.keys(files))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    const path = join(folder, '001_step_1.sql')
    const old = await stat(path)
    const text = await readFile(path, 'utf8')
    const other = join(folder, '.replacement')
    await writeFile(other, text.replace('create table t1', 'create table x1'))
    await utimes(other, AN_HOUR_AGO, AN_HOUR_AGO)
    await rename(other, path)
    const now = await stat(path)
    expect([now.size, now.mtimeMs]).toEqual([old.size, old.mtimeMs])

    const error = await failure(runner.migrate())
    expect(error.code).toBe('CHECKSUM_MISMATCH')
    expect(error.file).toBe('001_step_1.sql')
  })

  it('an applied file removed from the folder is reported missing', async () => {
    const { db } = await freshDb()
    const folder = await migrationFolder(countedFiles(3))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    await rm(join(folder, '003_step_3.sql'))
    const error = await failure(runner.migrate())
    expect(error.code).toBe('MISSING_MIGRATION_FILE')
    expect((await runner.status()).missing.map((m) => m.version)).toEqual([3])
  })

  it('a pending file fixed after a failed run is applied as it is now', async () => {
    const { db } = await freshDb()
    const folder = await migrationFolder(countedFiles(1))
    const runner = new MigrationRunner({ db, migrationFolder: folder })
    await runner.migrate()
    const path = join(folder, '002_step_2.sql')
    await writeFile(path, 'insert into side_effects (version) values (2);\ninsert into no_such_table values (1);\n')
    const error = await failure(runner.migrate())
    expect(error).toBeInstanceOf(MigrationRunError)
    expect((error as MigrationRunError).results.map((r) => [r.fileName, r.status])).toEqual([
      ['002_step_2.sql', 'failed'],
    ])
    await writeFile(path, 'insert into side_effects (version) values (2);\n')
    expect((await runner.migrate()).results.map((r) => [r.fileName, r.status])).toEqual([['002_step_2.sql', 'applied']])
    expect(await sideEffects(db)).toEqual([1, 2])
  })

  it('verify() sees a syntax error fixed, and a new one made, between calls', async () => {
    const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    const provider = new SqlFileMigrationProvider({ migrationFolder: folder })
    expect((await provider.loadFiles()).map((f) => f.fileName)).toEqual(['001_a.sql'])
    await writeFile(join(folder, '002_b.sql'), 'create tabel b (id int);\n')
    expect((await failure(provider.loadFiles())).file).toBe('002_b.sql')
    await writeFile(join(folder, '002_b.sql'), 'create table b (id int);\n')
    expect((await provider.loadFiles()).map((f) => f.fileName)).toEqual(['001_a.sql', '002_b.sql'])
  })
})
