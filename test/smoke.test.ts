import { sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'

describe('smoke', () => {
  let handle: TestDatabaseHandle
  beforeAll(async () => {
    handle = await (await resolveTestServer()).createDatabase()
  })
  afterAll(() => handle?.destroy())

  it('applies and re-runs nothing', async () => {
    const folder = await migrationFolder(countedFiles(3))
    const migrator = new Migrator({
      db: handle.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
    })
    const first = await migrator.migrateToLatest()
    expect(first.error).toBeUndefined()
    expect(first.results?.map((r) => r.status)).toEqual(['Success', 'Success', 'Success'])
    const again = await migrator.migrateToLatest()
    expect(again.results).toEqual([])
    const { rows } = await sql<{ version: number }>`select version from side_effects order by version`.execute(
      handle.db,
    )
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3])
    const ledger = await sql<{
      version: number
      checksum: string
    }>`select version, checksum from schema_versions order by version`.execute(handle.db)
    expect(ledger.rows).toHaveLength(3)
  })
})
