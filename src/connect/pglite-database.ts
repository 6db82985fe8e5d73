import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

import type { Database } from '../schema-types/index.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'
import { importDriver } from './import-driver.js'

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
 * The embedded PGlite database (with pgvector) in a folder, or in memory for `memory://`,
 * through Kysely's PostgresDialect over PGlite's node-postgres adapter. `db.destroy()` closes
 * PGlite and frees the folder. `@electric-sql/pglite` and `@electric-sql/pglite-pgvector` are
 * optional peers, loaded on first use.
 *
 * @example
 * ```ts
 * const db = await createPgliteDatabase('memory://')
 * ```
 */
export async function createPgliteDatabase<DB = Database>(dataDir: string): Promise<Kysely<DB>> {
  const [{ PGlite }, { vector }, { createPgConfig }] = await importDriver(
    'embedded database',
    () =>
      Promise.all([
        importAtRunTime<typeof import('@electric-sql/pglite')>('@electric-sql/pglite'),
        importAtRunTime<typeof import('@electric-sql/pglite-pgvector')>('@electric-sql/pglite-pgvector'),
        importAtRunTime<typeof import('@electric-sql/pglite/node-postgres')>('@electric-sql/pglite/node-postgres'),
      ]),
    '@electric-sql/pglite',
    '@electric-sql/pglite-pgvector',
  )
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true })
  const pglite = await PGlite.create(dataDir, { extensions: { vector } })
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig)
  // Close PGlite with the pool, so `db.destroy()` releases the data folder.
  const end = pool.end.bind(pool)
  pool.end = (async () => {
    await end()
    await pglite.close()
  }) as typeof pool.end
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
}
