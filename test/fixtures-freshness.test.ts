import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { closeTestDatabases, createTestDatabase, resolveTestServer, type TestDatabase } from '../src/testing/index.js'
import { migrationDigest } from '../src/testing/template-digest.js'
import { migrationFolder } from './support/folders.js'

// A long-lived test process (vitest --watch) hands out databases of the migration files as they
// are at each call, not as they were when it made its first template.
const server = await resolveTestServer()
const made: TestDatabase[] = []
afterAll(async () => {
  await Promise.all(made.map((t) => t.destroy().catch(() => {})))
  await closeTestDatabases()
})

async function tables(options: Parameters<typeof createTestDatabase>[0]): Promise<string[]> {
  const t = await createTestDatabase(options)
  made.push(t)
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_name not in ('schema_versions', 'kysely_migration', 'kysely_migration_lock')
    order by 1`.execute(t.db)
  return rows.map((r) => r.name)
}

describe('the digest of a migration folder', () => {
  it('changes when a file is added, edited (even to the same size) or removed, and only then', async () => {
    const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    const first = migrationDigest(folder)
    expect(migrationDigest(folder)).toBe(first)
    await writeFile(join(folder, 'notes.txt'), 'not a migration\n')
    expect(migrationDigest(folder)).toBe(first)

    await writeFile(join(folder, '002_b.sql'), 'create table b (id int);\n')
    const added = migrationDigest(folder)
    expect(added).not.toBe(first)
    await writeFile(join(folder, '002_b.sql'), 'create table c (id int);\n')
    const edited = migrationDigest(folder)
    expect(edited).not.toBe(added)
    await writeFile(join(folder, '002_b.down.sql'), 'drop table c;\n')
    expect(migrationDigest(folder)).not.toBe(edited)
    await rm(join(folder, '002_b.down.sql'))
    expect(migrationDigest(folder)).toBe(edited)
    await rm(join(folder, '002_b.sql'))
    expect(migrationDigest(folder)).toBe(first)
  })
})

// The same steps on each tier this machine has: the server's templates, and PGlite's dumps.
const tiers = [
  ...(server.tier === 'pglite' ? [] : [{ name: `the ${server.tier} tier`, tier: undefined }]),
  { name: 'the PGlite tier', tier: 'pglite' as const },
]
describe.each(tiers)('createTestDatabase() on $name, while the process lives', ({ tier }) => {
  it('a file added, edited or removed since the last call is in the next database', { timeout: 120_000 }, async () => {
    const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    // Two calls: the second comes from clones made ahead of time, of the same files.
    expect(await tables({ migrationFolder: folder, tier })).toEqual(['a'])
    expect(await tables({ migrationFolder: folder, tier })).toEqual(['a'])

    await writeFile(join(folder, '002_b.sql'), 'create table b (id int);\n')
    expect(await tables({ migrationFolder: folder, tier })).toEqual(['a', 'b'])

    await writeFile(join(folder, '002_b.sql'), 'create table c (id int);\n')
    expect(await tables({ migrationFolder: folder, tier })).toEqual(['a', 'c'])

    await rm(join(folder, '002_b.sql'))
    expect(await tables({ migrationFolder: folder, tier })).toEqual(['a'])
  })
})
