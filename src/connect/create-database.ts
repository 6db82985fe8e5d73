import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

import type { Database } from '../schema-types/index.js'

/** Which driver {@link createDatabase} uses. */
export type DatabaseDriver = 'pg' | 'pglite'

/** Options of {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /** A PostgreSQL URL; without one, the embedded PGlite database. */
  readonly url?: string
  readonly driver?: DatabaseDriver
  /** PGlite's data folder. Default: `WUKONG_PGLITE_DIR`, else `.wukong/pglite`. */
  readonly dataDir?: string
  /** pg pool size. Default 10. */
  readonly max?: number
}

/**
 * The default folder of the embedded database: `WUKONG_PGLITE_DIR`, else `.wukong/pglite`
 * under the current directory.
 *
 * @example
 * ```ts
 * embeddedDataDir() // '/home/me/app/.wukong/pglite'
 * ```
 */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['WUKONG_PGLITE_DIR'] ?? '.wukong/pglite')
}

/**
 * A `Kysely<Database>` over pg (TCP) or the embedded PGlite (with pgvector).
 *
 * @example
 * ```ts
 * const db = await createDatabase({ url: process.env.POSTGRES_URL_NON_POOLING })
 * const sessions = await db.selectFrom('sessions').selectAll().execute()
 * ```
 */
export async function createDatabase(options: CreateDatabaseOptions = {}): Promise<Kysely<Database>> {
  const driver = options.driver ?? (options.url ? 'pg' : 'pglite')
  if (driver === 'pglite') return createPgliteDatabase(options.dataDir ?? embeddedDataDir())
  if (!options.url) throw new Error('createDatabase: the pg driver needs a url')
  const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10 })
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

async function createPgliteDatabase(dataDir: string): Promise<Kysely<Database>> {
  const [{ PGlite }, { vector }, { createPgConfig }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite/node-postgres'),
  ])
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true })
  const pglite = await PGlite.create(dataDir, { extensions: { vector } })
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig)
  // Close PGlite with the pool, so `db.destroy()` releases the data folder.
  const end = pool.end.bind(pool)
  pool.end = (async () => {
    await end()
    await pglite.close()
  }) as typeof pool.end
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}
