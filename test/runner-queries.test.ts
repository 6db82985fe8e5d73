import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { MigrationRunner } from '../src/index.js'
import { GuardedPool } from '../src/connect/index.js'
import { checkUpToDate } from '../src/provider/migration-state.js'
import { resolveTestServer } from '../src/testing/test-server.js'
import { openPglite } from '../src/connect/open-pglite.js'
import { countedFiles, migrationFolder } from './support/folders.js'

/** A pool on a fresh database of the test server, or on an in-memory PGlite where there is none. */
async function freshPool(): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const server = await resolveTestServer()
  if (!server.adminUrl) {
    const opened = await openPglite('memory://')
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres')
    return { pool: new pg.Pool(createPgConfig(opened.pglite) as unknown as pg.PoolConfig), close: () => opened.close() }
  }
  const handle = await server.createDatabase()
  return { pool: new GuardedPool({ connectionString: handle.url, max: 2 }), close: () => handle.destroy() }
}

// Counts what the runner sends, through Kysely's own query log (every query the runner's
// Kysely instance executes, whoever builds it).
describe('what the runner sends', () => {
  let database: Awaited<ReturnType<typeof freshPool>> | undefined
  let db: Kysely<unknown>
  const queries: string[] = []
  beforeAll(async () => {
    database = await freshPool()
    db = new Kysely({
      dialect: new PostgresDialect({ pool: database.pool }),
      log: (event) => void queries.push(event.query.sql),
    })
    // A schema with many tables: the checks below must not read them.
    await sql
      .raw(
        Array.from({ length: 200 }, (_, i) => `create table filler_${i} (id int primary key, note text);`).join('\n'),
      )
      .execute(db)
  })
  afterAll(async () => {
    await db?.destroy()
    await database?.close()
  })

  it('never reads the whole catalog, and an up-to-date check is one query', async () => {
    const runner = new MigrationRunner({ db, migrationFolder: await migrationFolder(countedFiles(4)) })
    queries.length = 0
    await runner.migrate()
    // Kysely's PostgreSQL introspector reads every column of every table (atthasdef etc.).
    expect(queries.filter((q) => q.includes('atthasdef'))).toEqual([])
    const applyQueries = [...queries]
    if (process.env['SHOW_QUERIES'])
      console.log(applyQueries.map((q) => q.slice(0, 90).replace(/\s+/g, ' ')).join('\n'))

    // The four files (each its SQL with both ledger rows, in its own transaction) in one batch.
    expect(applyQueries.filter((q) => q.includes('BEGIN;'))).toHaveLength(1)
    expect(applyQueries.find((q) => q.includes('BEGIN;'))!.match(/\bCOMMIT;/g)).toHaveLength(4)

    queries.length = 0
    expect(await runner.migrate()).toEqual({ results: [], currentVersion: 4 })
    // One comparison query; around it only the lock_timeout that bounds it, set and restored.
    const reads = queries.filter(
      (q) => !/^\s*select (current_setting\('lock_timeout'\) as previous, )?set_config\('lock_timeout'/.test(q),
    )
    expect(reads).toHaveLength(1)
    expect(queries).toHaveLength(3)
    expect(reads[0]).toMatch(/from "public".schema_versions[\s\S]*from "public".kysely_migration/)
  })

  it('with an onApply observer, each file is its own round trip and is reported as it commits', async () => {
    const seenAt: number[] = []
    const runner = new MigrationRunner({
      db,
      migrationFolder: await migrationFolder(countedFiles(3)),
      onApply: () => void seenAt.push(queries.length),
    })
    await sql`drop table if exists schema_versions, kysely_migration, kysely_migration_lock, side_effects, t1, t2, t3, t4 cascade`.execute(
      db,
    )
    queries.length = 0
    await runner.migrate()
    expect(queries.filter((q) => q.includes('BEGIN;'))).toEqual([])
    expect(seenAt).toHaveLength(3)
    // Another query went out between two reports: the next file, after the previous one was reported.
    expect(new Set(seenAt).size).toBe(3)
  })

  it('an up-to-date check gets one row back, whatever the number of files', async () => {
    const files = await migrationFolder(countedFiles(30))
    const runner = new MigrationRunner({ db, migrationFolder: files })
    await runner.migrate()
    const heads = runner.provider.scanFiles()
    expect(await checkUpToDate(db, heads)).toEqual({ currentVersion: 30 })
    const { rows } = await sql`select 1`.execute(db) // the connection is fine afterwards
    expect(rows).toHaveLength(1)
  })
})
