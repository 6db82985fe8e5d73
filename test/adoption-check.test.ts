import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'

import {
  AdoptionMismatchError,
  MigrationRunError,
  MigrationRunner,
  readMigrationFolder,
  SqlFileMigrationProvider,
  type MigrationFile,
} from '../src/index.js'
import { expectedObjects } from '../src/provider/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/index.js'
import { migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
const wukong = await new SqlFileMigrationProvider().loadFiles()

/** Runs files the old runner's way: each file's text as one query, its own INSERT recording it. */
async function oldRunner(url: string, files: readonly MigrationFile[], after = ''): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const file of files) await client.query(file.text)
    if (after) await client.query(after)
  } finally {
    await client.end()
  }
}

async function ledger(handle: TestDatabaseHandle): Promise<{ version: number; checksum: string | null }[]> {
  const { rows } = await sql<{
    version: number
    checksum: string | null
  }>`select version, checksum from schema_versions order by version`.execute(handle.db)
  return rows
}

async function refusal(runner: MigrationRunner): Promise<AdoptionMismatchError> {
  try {
    await runner.migrate()
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationRunError)
    const cause = (error as MigrationRunError).cause
    expect(cause).toBeInstanceOf(AdoptionMismatchError)
    return cause as AdoptionMismatchError
  } finally {
    await runner.close()
  }
  throw new Error('migrate succeeded')
}

describe.skipIf(needsServer(server, 'adopting an old runner’s ledger rows checks the objects each file creates'))(
  'adopting an old runner’s ledger rows checks the objects each file creates',
  () => {
    let handle: TestDatabaseHandle | undefined
    afterEach(async () => {
      await handle?.destroy()
      handle = undefined
    })

    it('refuses a version number another change used: the file’s tables are missing, and it is not counted applied', async () => {
      handle = await server.createDatabase()
      // 001–003 as deployed, then another copy of the schema recorded its own version 4.
      await oldRunner(
        handle.url!,
        wukong.filter((f) => f.version <= 3),
        `insert into schema_versions (version, description) values (4, 'Add user preferences')`,
      )
      const error = await refusal(new MigrationRunner({ url: handle.url!, log: () => {} }))
      expect(error.code).toBe('ADOPTION_MISMATCH')
      expect(error.file).toBe('004_knowledge_base.sql')
      expect(error.version).toBe(4)
      // A missing table is named once, not with each of its columns and indexes.
      expect(error.missing).toEqual([
        { kind: 'table', name: 'knowledge_entities' },
        { kind: 'table', name: 'knowledge_feedback' },
      ])
      expect(error.message).toContain('"Add user preferences"')
      // 001–003 were adopted (their objects are there); 4 was not, and nothing after it ran.
      const rows = await ledger(handle)
      expect(rows.map((r) => [r.version, r.checksum !== null])).toEqual([
        [1, true],
        [2, true],
        [3, true],
        [4, false],
      ])
      const { rows: made } = await sql<{
        t: string | null
      }>`select to_regclass('knowledge_entities')::text as t`.execute(handle.db)
      expect(made[0]!.t).toBeNull()
    })

    it('refuses when a column or an index the file creates is gone, naming each', async () => {
      handle = await server.createDatabase()
      await oldRunner(
        handle.url!,
        wukong.filter((f) => f.version <= 4),
        'alter table todos drop column priority; drop index idx_steps_action',
      )
      const error = await refusal(new MigrationRunner({ url: handle.url!, log: () => {} }))
      expect(error.file).toBe('001_initial_schema.sql')
      expect(error.missing).toEqual([
        { kind: 'column', name: 'todos.priority', table: 'todos' },
        { kind: 'index', name: 'idx_steps_action', table: 'steps' },
      ])
      // Refused before anything was recorded: no row adopted, Kysely's ledger empty.
      expect((await ledger(handle)).every((r) => r.checksum === null)).toBe(true)
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(handle.db)
      expect(rows[0]!.n).toBe(0)
    })

    it('expects nothing a later applied file dropped or renamed', async () => {
      const folder = await migrationFolder({
        '001_a.sql':
          'create table a (id int primary key, note text, old_name text);\ncreate index a_name on a (old_name);\ncreate index a_note on a (id, note);\ncreate index a_id on a (id);\n',
        // Drops an index by name, another with its column; renames a column and an index.
        '002_b.sql':
          'drop index a_id;\nalter table a drop column note;\nalter table a rename column old_name to new_name;\nalter index a_name rename to a_name2;\n',
      })
      const files = await readMigrationFolder(folder)
      expect(await expectedObjects(files[0]!, [])).toEqual([
        { kind: 'table', name: 'a' },
        { kind: 'column', name: 'a.id', table: 'a' },
        { kind: 'column', name: 'a.note', table: 'a' },
        { kind: 'column', name: 'a.old_name', table: 'a' },
        { kind: 'index', name: 'a_name', table: 'a' },
        { kind: 'index', name: 'a_note', table: 'a' },
        { kind: 'index', name: 'a_id', table: 'a' },
      ])
      expect(await expectedObjects(files[0]!, [files[1]!])).toEqual([
        { kind: 'table', name: 'a' },
        { kind: 'column', name: 'a.id', table: 'a' },
        { kind: 'column', name: 'a.new_name', table: 'a' },
        { kind: 'index', name: 'a_name2', table: 'a' },
      ])

      // On a real database: both files run the old way (no INSERTs in these files: rows by hand).
      handle = await server.createDatabase()
      await oldRunner(
        handle.url!,
        files,
        `create table schema_versions (version int primary key, description text not null, applied_at timestamptz default now());
      insert into schema_versions (version, description) values (1, 'a'), (2, 'b')`,
      )
      const runner = new MigrationRunner({ url: handle.url!, migrationFolder: folder, log: () => {} })
      try {
        const result = await runner.migrate()
        expect(result.results.map((r) => [r.version, r.status])).toEqual([
          [1, 'adopted'],
          [2, 'adopted'],
        ])
      } finally {
        await runner.close()
      }
    })
  },
)
