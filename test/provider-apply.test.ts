import { spawnSync } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { Kysely, sql } from 'kysely'
import { Migrator, NO_MIGRATIONS } from 'kysely/migration'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunError, MigrationRunner, SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { snapshotDatabase } from './support/db-snapshot.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { NonTransactionalDdlDialect } from './support/non-transactional-dialect.js'
import { needsServer } from './support/needs-server.js'

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

async function kyselyNames(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)
  return rows.map((r) => r.name)
}

async function ledgerVersions(db: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ version: number }>`select version from schema_versions order by version`.execute(db)
  return rows.map((r) => r.version)
}

async function tableExists(db: Kysely<unknown>, name: string): Promise<boolean> {
  const { rows } = await sql<{ e: boolean }>`select to_regclass(${name}) is not null as e`.execute(db)
  return rows[0]!.e
}

/** The old runner: each file executed as-is, no transaction, no lock. */
async function runLikeTheOldRunner(db: Kysely<unknown>, files: Record<string, string>): Promise<void> {
  await sql
    .raw(
      'create table if not exists schema_versions (version integer primary key, description text not null, applied_at timestamptz default now())',
    )
    .execute(db)
  for (const name of Object.keys(files).sort()) await sql.raw(files[name]!).execute(db)
}

const modes = {
  "Kysely's default (one transaction)": {},
  'disableTransactions: true': { disableTransactions: true },
} as const

describe.each(Object.entries(modes))('the provider under %s', (_mode, options) => {
  let handle: TestDatabaseHandle
  beforeEach(async () => {
    handle = await freshDb()
  })

  it('applies in order and a re-run executes none of the SQL', async () => {
    const folder = await migrationFolder(countedFiles(5))
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
      ...options,
    })
    const first = await migrator.migrateToLatest()
    expect(first.error).toBeUndefined()
    expect(first.results?.map((r) => [r.migrationName, r.status])).toEqual([
      ['001_step_1', 'Success'],
      ['002_step_2', 'Success'],
      ['003_step_3', 'Success'],
      ['004_step_4', 'Success'],
      ['005_step_5', 'Success'],
    ])
    const again = await migrator.migrateToLatest()
    expect(again.error).toBeUndefined()
    expect(again.results).toEqual([])
    expect(await sideEffects(handle.db)).toEqual([1, 2, 3, 4, 5])
    expect(await ledgerVersions(handle.db)).toEqual([1, 2, 3, 4, 5])
    expect(await kyselyNames(handle.db)).toEqual(['001_step_1', '002_step_2', '003_step_3', '004_step_4', '005_step_5'])
    const { rows } = await sql<{ checksum: string; file_name: string; atomic: boolean; execution_ms: number }>`
      select checksum, file_name, atomic, execution_ms from schema_versions where version = 3`.execute(handle.db)
    expect(rows[0]).toMatchObject({ file_name: '003_step_3.sql', atomic: true })
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(rows[0]!.execution_ms).toBeGreaterThanOrEqual(0)
  })

  it('adopts a database the old runner migrated, running nothing again', async () => {
    const files = countedFiles(3, (n) =>
      n === 1
        ? "insert into schema_versions (version, description) values (1, 'Step one') on conflict (version) do nothing;\n"
        : `insert into schema_versions (version, description) values (${n}, 'Step ${n}');\n`,
    )
    await runLikeTheOldRunner(handle.db, files)
    expect(await sideEffects(handle.db)).toEqual([1, 2, 3])
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
      ...options,
    })
    const { error, results } = await migrator.migrateToLatest()
    expect(error).toBeUndefined()
    expect(results?.every((r) => r.status === 'Success')).toBe(true)
    expect(await sideEffects(handle.db)).toEqual([1, 2, 3])
    expect(await kyselyNames(handle.db)).toEqual(['001_step_1', '002_step_2', '003_step_3'])
    const { rows } = await sql<{
      version: number
      description: string
      checksum: string | null
      adopted_at: Date | null
    }>`
      select version, description, checksum, adopted_at from schema_versions order by version`.execute(handle.db)
    expect(rows.map((r) => r.description)).toEqual(['Step one', 'Step 2', 'Step 3'])
    expect(rows.every((r) => r.checksum?.length === 64 && r.adopted_at instanceof Date)).toBe(true)
  })

  it('applies files that insert their own schema_versions row, with and without ON CONFLICT', async () => {
    const files = countedFiles(2, (n) =>
      n === 1
        ? "insert into schema_versions (version, description) values (1, 'First') on conflict (version) do nothing;\n"
        : "INSERT INTO schema_versions (version, description) VALUES (2, 'Second');\n",
    )
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
      ...options,
    })
    expect((await migrator.migrateToLatest()).error).toBeUndefined()
    const { rows } = await sql<{
      description: string
      checksum: string
    }>`select description, checksum from schema_versions order by version`.execute(handle.db)
    expect(rows.map((r) => r.description)).toEqual(['First', 'Second'])
    expect(rows.every((r) => r.checksum.length === 64)).toBe(true)
  })

  it('a failing file leaves no table, row or ledger entry, and the error names it with line:column', async () => {
    const files = {
      ...countedFiles(2),
      '003_broken.sql':
        'create table broken_a (id int);\ninsert into side_effects (version) values (3);\nselect no_such_column from broken_a;\n',
    }
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
      ...options,
    })
    const { error } = await migrator.migrateToLatest()
    expect(error).toBeInstanceOf(MigrationError)
    const e = error as MigrationError
    expect(e.code).toBe('MIGRATION_FAILED')
    expect([e.file, e.line, e.column]).toEqual(['003_broken.sql', 3, 8])
    expect(e.message).toMatch(/^003_broken\.sql:3:8: column "no_such_column" does not exist/)
    expect(await tableExists(handle.db, 'broken_a')).toBe(false)
    // Kysely's batch transaction rolls back the files before it too; per-file commits keep them.
    const committedBefore = 'disableTransactions' in options ? [1, 2] : []
    expect(await ledgerVersions(handle.db).catch(() => [])).toEqual(committedBefore)
    expect(await sideEffects(handle.db).catch(() => [])).toEqual(committedBefore)
  })

  it('locates a failing statement that PostgreSQL gives no position for', async () => {
    const files = { '001_dup.sql': 'create table dup (id int);\n\n  create table dup (id int);\n' }
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
      ...options,
    })
    const e = (await migrator.migrateToLatest()).error as MigrationError
    expect([e.code, e.file, e.line, e.column]).toEqual(['MIGRATION_FAILED', '001_dup.sql', 3, 3])
    expect(await tableExists(handle.db, 'dup')).toBe(false)
  })

  it('round-trips down files and keeps both ledgers in step', async () => {
    const files = {
      ...countedFiles(3),
      '002_step_2.down.sql': 'drop table t2;\ndelete from side_effects where version = 2;\n',
      '003_step_3.down.sql': 'drop table t3;\ndelete from side_effects where version = 3;\n',
    }
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
      ...options,
    })
    expect((await migrator.migrateToLatest()).error).toBeUndefined()
    expect((await migrator.migrateDown()).results?.[0]).toMatchObject({
      migrationName: '003_step_3',
      status: 'Success',
    })
    expect(await tableExists(handle.db, 't3')).toBe(false)
    expect(await ledgerVersions(handle.db)).toEqual([1, 2])
    expect((await migrator.migrateTo('001_step_1')).error).toBeUndefined()
    expect(await ledgerVersions(handle.db)).toEqual([1])
    expect(await kyselyNames(handle.db)).toEqual(['001_step_1'])
    expect((await migrator.migrateUp()).results?.[0]).toMatchObject({ migrationName: '002_step_2', status: 'Success' })
    expect(await ledgerVersions(handle.db)).toEqual([1, 2])
    expect((await migrator.migrateToLatest()).error).toBeUndefined()
    expect(await sideEffects(handle.db)).toEqual([1, 2, 3])
    const listed = await migrator.getMigrations()
    expect(listed.map((m) => [m.name, m.executedAt instanceof Date])).toEqual([
      ['001_step_1', true],
      ['002_step_2', true],
      ['003_step_3', true],
    ])
    // 001 has no down file: its down() fails with a named error, so Kysely reports the failure
    // and neither ledger forgets 001.
    const all = await migrator.migrateTo(NO_MIGRATIONS)
    expect(all.results?.map((r) => r.status)).toEqual(['Success', 'Success', 'Error'])
    expect(all.error).toMatchObject({ code: 'NO_DOWN_FILE', file: '001_step_1.sql' })
    expect(await ledgerVersions(handle.db)).toContain(1)
    expect(await kyselyNames(handle.db)).toContain('001_step_1')
  })

  it('refuses an edited applied file and a deleted one, unless allowDrift', async () => {
    const files = countedFiles(2)
    const folder = await migrationFolder(files)
    const provider = () => new SqlFileMigrationProvider({ migrationFolder: folder })
    expect(
      (await new Migrator({ db: handle.db, provider: provider(), ...options }).migrateToLatest()).error,
    ).toBeUndefined()
    const [original] = await sql<{ checksum: string }>`select checksum from schema_versions where version = 1`
      .execute(handle.db)
      .then((r) => r.rows)
    await writeFile(join(folder, '001_step_1.sql'), `${files['001_step_1.sql']}-- edited\n`)
    await writeFile(join(folder, '003_new.sql'), 'create table t3 (id int);')
    const drift = (await new Migrator({ db: handle.db, provider: provider(), ...options }).migrateToLatest())
      .error as MigrationError
    expect(drift.code).toBe('CHECKSUM_MISMATCH')
    expect(drift.file).toBe('001_step_1.sql')
    expect(drift.message).toContain(original!.checksum)
    expect(await tableExists(handle.db, 't3')).toBe(false)
    const allowed = await new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder, allowDrift: true }),
      ...options,
    }).migrateToLatest()
    expect(allowed.error).toBeUndefined()
    expect(await tableExists(handle.db, 't3')).toBe(true)

    await rm(join(folder, '003_new.sql'))
    await writeFile(join(folder, '004_later.sql'), 'create table t4 (id int);')
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: folder, allowDrift: false })
    const missing = (await runner.migrate().catch((e: unknown) => e)) as MigrationError
    expect(missing.code).toBe('CHECKSUM_MISMATCH') // reported first; then the missing file:
    await writeFile(join(folder, '001_step_1.sql'), files['001_step_1.sql']!)
    const gone = (await new MigrationRunner({ db: handle.db, migrationFolder: folder })
      .migrate()
      .catch((e: unknown) => e)) as MigrationError
    expect(gone.code).toBe('MISSING_MIGRATION_FILE')
    expect(gone.message).toContain('003_new.sql')
    expect(await tableExists(handle.db, 't4')).toBe(false)
  })
})

// On the embedded tier a database has no URL for a second client or a child process to use.
describe.skipIf(needsServer(server, 'the provider without transactional DDL (as on @vercel/postgres-kysely)'))(
  'the provider without transactional DDL (as on @vercel/postgres-kysely)',
  () => {
    it('applies each file atomically over a bare connection', async () => {
      const handle = await freshDb()
      const db = new Kysely<unknown>({ dialect: new NonTransactionalDdlDialect(handle.url!) })
      try {
        const files = {
          ...countedFiles(2),
          '003_broken.sql':
            'create table broken_a (id int);\ninsert into side_effects (version) values (3);\ncreate table broken_a (id int);\n',
        }
        const { error, results } = await new Migrator({
          db,
          provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
        }).migrateToLatest()
        expect((error as MigrationError).file).toBe('003_broken.sql')
        expect((error as MigrationError).line).toBe(3)
        expect(results?.map((r) => r.status)).toEqual(['Success', 'Success', 'Error'])
        expect(await tableExists(db, 'broken_a')).toBe(false)
        expect(await sideEffects(db)).toEqual([1, 2])
        expect(await ledgerVersions(db)).toEqual([1, 2])
        expect(await kyselyNames(db)).toEqual(['001_step_1', '002_step_2'])
      } finally {
        await db.destroy()
      }
    })
  },
)

describe('non-transactional files', () => {
  const files = {
    '001_table.sql': 'create table big (x int);\ninsert into big select generate_series(1, 1000);\n',
    '002_index.sql': '-- wukong:no-transaction\ncreate index concurrently if not exists big_x on big (x);\n',
  }

  it('apply through the runner, outside a transaction, and are recorded as non-atomic', async () => {
    const handle = await freshDb()
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(files) })
    const { results } = await runner.migrate()
    expect(results.map((r) => [r.fileName, r.status, r.atomic])).toEqual([
      ['001_table.sql', 'applied', true],
      ['002_index.sql', 'applied', false],
    ])
    expect(await tableExists(handle.db, 'big_x')).toBe(true)
    const { rows } = await sql<{ atomic: boolean }>`select atomic from schema_versions where version = 2`.execute(
      handle.db,
    )
    expect(rows[0]!.atomic).toBe(false)
  })

  it("are refused with advice inside Kysely's batch transaction", async () => {
    const handle = await freshDb()
    const { error } = await new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: await migrationFolder(files) }),
    }).migrateToLatest()
    expect((error as MigrationError).code).toBe('NON_TRANSACTIONAL_IN_TRANSACTION')
    expect((error as MigrationError).message).toMatch(/disableTransactions/)
  })
})

describe('the runner', () => {
  it('reports what is committed: applied before the failure, failed, not run after', async () => {
    const handle = await freshDb()
    const files = {
      ...countedFiles(2),
      '003_broken.sql': 'select 1/0;\n',
      '004_after.sql': 'create table t4 (id int);',
    }
    const error = (await new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(files) })
      .migrate()
      .catch((e: unknown) => e)) as MigrationRunError
    expect(error).toBeInstanceOf(MigrationRunError)
    expect(error.results.map((r) => [r.fileName, r.status])).toEqual([
      ['001_step_1.sql', 'applied'],
      ['002_step_2.sql', 'applied'],
      ['003_broken.sql', 'failed'],
      ['004_after.sql', 'not-run'],
    ])
    expect([error.cause.file, error.cause.line, error.cause.column]).toEqual(['003_broken.sql', 1, 1])
    const status = await new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(files) }).status()
    expect(status.currentVersion).toBe(2)
    expect(status.pending.map((p) => p.fileName)).toEqual(['003_broken.sql', '004_after.sql'])
    expect(status.isUpToDate).toBe(false)
  })

  it('adopts an old-runner database and says so, per file and in status()', async () => {
    const handle = await freshDb()
    const files = countedFiles(
      3,
      (n) =>
        `insert into schema_versions (version, description) values (${n}, 'Step ${n}') on conflict (version) do nothing;\n`,
    )
    await runLikeTheOldRunner(handle.db, {
      '001_step_1.sql': files['001_step_1.sql']!,
      '002_step_2.sql': files['002_step_2.sql']!,
    })
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(files) })
    const before = await runner.status()
    expect(before.adopted.map((a) => [a.version, a.checksumMatches])).toEqual([
      [1, null],
      [2, null],
    ])
    expect(before.pending.map((p) => p.version)).toEqual([3])
    expect((await runner.migrate()).results.map((r) => [r.fileName, r.status])).toEqual([
      ['001_step_1.sql', 'adopted'],
      ['002_step_2.sql', 'adopted'],
      ['003_step_3.sql', 'applied'],
    ])
    expect(await sideEffects(handle.db)).toEqual([1, 2, 3])
    const after = await runner.status()
    expect(after.isUpToDate).toBe(true)
    expect(after.adopted.map((a) => [a.version, a.checksumMatches])).toEqual([
      [1, true],
      [2, true],
    ])
  })

  it('status() and migrate() on an up-to-date database change nothing', async () => {
    const handle = await freshDb()
    const folder = await migrationFolder(countedFiles(3))
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: folder })
    expect((await runner.migrate()).results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied'])
    const before = await snapshotDatabase(handle.db)
    expect(await runner.migrate()).toEqual({ results: [], currentVersion: 3 })
    const status = await runner.status()
    expect(status).toMatchObject({
      currentVersion: 3,
      isUpToDate: true,
      pending: [],
      drifted: [],
      missing: [],
      adopted: [],
    })
    expect(status.applied.every((a) => a.checksumMatches && a.recordedByKysely)).toBe(true)
    expect(await snapshotDatabase(handle.db)).toBe(before)
  })

  it('down() needs down files and migrateTo() goes both ways', async () => {
    const handle = await freshDb()
    const folder = await migrationFolder({
      ...countedFiles(3),
      '003_step_3.down.sql': 'drop table t3; delete from side_effects where version = 3;',
      '002_step_2.down.sql': 'drop table t2; delete from side_effects where version = 2;',
    })
    const runner = new MigrationRunner({ db: handle.db, migrationFolder: folder })
    await runner.migrate()
    expect((await runner.down()).results.map((r) => [r.fileName, r.status])).toEqual([
      ['003_step_3.down.sql', 'reverted'],
    ])
    expect((await runner.migrateTo(3)).results.map((r) => [r.fileName, r.status])).toEqual([
      ['003_step_3.sql', 'applied'],
    ])
    expect((await runner.down({ to: 1 })).currentVersion).toBe(1)
    const refused = (await runner.down().catch((e: unknown) => e)) as MigrationError
    expect(refused.code).toBe('NO_DOWN_FILE')
    expect(refused.message).toContain('001_step_1.down.sql')
    expect(await ledgerVersions(handle.db)).toEqual([1])
  })
})

describe.skipIf(needsServer(server, 'the crash window between a file commit and Kysely recording it'))(
  'the crash window between a file commit and Kysely recording it',
  () => {
    it('converges on the next run without re-running the file', async () => {
      const handle = await freshDb()
      const folder = await migrationFolder(countedFiles(4))
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'test/support/crash-child.ts', handle.url!, folder, '2'],
        { encoding: 'utf8', timeout: 60_000 },
      )
      expect(child.signal).toBe('SIGKILL')
      expect(await ledgerVersions(handle.db)).toEqual([1, 2])
      expect(await kyselyNames(handle.db)).toEqual(['001_step_1'])
      const { error, results } = await new Migrator({
        db: handle.db,
        provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
      }).migrateToLatest()
      expect(error).toBeUndefined()
      expect(results?.map((r) => r.migrationName)).toEqual(['002_step_2', '003_step_3', '004_step_4'])
      expect(await sideEffects(handle.db)).toEqual([1, 2, 3, 4])
      expect(await kyselyNames(handle.db)).toEqual(['001_step_1', '002_step_2', '003_step_3', '004_step_4'])
    })
  },
)

describe.skipIf(needsServer(server, 'the ledger is the tool’s'))('the ledger is the tool’s', () => {
  it('a file that UPDATEs or DELETEs schema_versions is refused (else files run twice)', async () => {
    const handle = await freshDb()
    const files = {
      '001_a.sql': 'create table side_effects (version int);\ninsert into side_effects values (1);\n',
      '002_b.sql': 'delete from schema_versions where version = 1;\n',
    }
    const first = await new MigrationRunner({
      db: handle.db,
      migrationFolder: await migrationFolder(files),
      log: () => {},
    })
      .migrate()
      .catch((e: unknown) => e as MigrationError)
    const second = await new MigrationRunner({
      db: handle.db,
      migrationFolder: await migrationFolder(files),
      log: () => {},
    })
      .migrate()
      .catch((e: unknown) => e as MigrationError)
    // Refused while reading the folder, before anything touches the database: 001 never ran.
    const { rows } = await sql<{ exists: boolean }>`select to_regclass('side_effects') is not null as exists`.execute(
      handle.db,
    )
    expect({
      firstRefused: first instanceof MigrationError,
      code: (first as MigrationError).code,
      sideEffectsTable: rows[0]!.exists,
    }).toEqual({ firstRefused: true, code: 'LEDGER_WRITE', sideEffectsTable: false })
    expect(second).toBeDefined()
  })
})
