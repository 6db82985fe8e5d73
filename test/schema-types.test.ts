import { sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { DATABASE_COLUMNS, SqlFileMigrationProvider } from '../src/index.js'
import { columnDifferences, readCatalogColumns } from '../src/schema-types/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'

// The proof that src/schema-types matches the database: DATABASE_COLUMNS must equal what
// the types say (checked by the compiler through `satisfies DatabaseColumnFacts`) and what a
// freshly migrated database's catalog says (checked here).
describe('the TypeScript types and the live catalog', () => {
  let handle: TestDatabaseHandle
  beforeAll(async () => {
    handle = await (await resolveTestServer()).createDatabase()
    // disableTransactions: 005 builds its indexes CONCURRENTLY (-- wukong:no-transaction).
    const { error } = await new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider(),
      disableTransactions: true,
    }).migrateToLatest()
    expect(error).toBeUndefined()
  })
  afterAll(() => handle?.destroy())

  it('agree on every table and column: name, type family, nullability, default', async () => {
    expect(columnDifferences(DATABASE_COLUMNS, await readCatalogColumns(handle.db))).toEqual([])
  })

  it("record each file once, with the description of the file's own schema_versions INSERT", async () => {
    const { rows } = await sql<{
      version: number
      description: string
      checksum: string | null
      adopted_at: Date | null
    }>`
      select version, description, checksum, adopted_at from schema_versions order by version`.execute(handle.db)
    expect(rows.map((r) => [r.version, r.description])).toEqual([
      [1, 'Initial schema: sessions, steps, todos, checkpoints'],
      [2, 'Parallel tool calls'],
      [3, 'Agent fork tasks'],
      [4, 'Knowledge base with vector search'],
      [5, 'HNSW vector indexes'],
    ])
    expect(rows.every((r) => r.checksum !== null && r.adopted_at === null)).toBe(true)
  })

  it('catch a column that differs', async () => {
    const wrong = {
      ...DATABASE_COLUMNS,
      sessions: { ...DATABASE_COLUMNS.sessions, goal: ['string', true, false] as const },
    }
    expect(columnDifferences(wrong, await readCatalogColumns(handle.db))).toEqual([
      'sessions.goal: types say string/true/false, database says string/false/false',
    ])

    await sql`alter table todos add column surprise int default 1`.execute(handle.db)
    await sql`alter table steps alter column action drop not null`.execute(handle.db)
    expect(columnDifferences(DATABASE_COLUMNS, await readCatalogColumns(handle.db))).toEqual([
      'steps.action: types say string/false/false, database says string/true/false',
      'todos.surprise: types say nothing, database says number/true/true',
    ])
  })
})
