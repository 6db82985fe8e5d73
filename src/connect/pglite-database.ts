import { Kysely, PostgresDialect, sql, type Driver, type PostgresDialectConfig } from 'kysely'
import pg from 'pg'

import type { Database } from '../schema-types/index.js'
import { guardConnectionErrors } from './guard-connection-errors.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import { embeddedBusyTimeoutMs } from './embedded-settings.js'
import { openPglite } from './open-pglite.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'

/** Options of {@link createPgliteDatabase}. */
export interface PgliteDatabaseOptions {
  /** Longest wait for another process to close the folder. Default: {@link embeddedBusyTimeoutMs}. */
  readonly busyTimeoutMs?: number | undefined
  /** Called once when the folder is open in another process and the wait begins. */
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
}

/**
 * The embedded PGlite database (with pgvector) in a folder, or in memory for `memory://`,
 * through Kysely's PostgresDialect over PGlite's node-postgres adapter. The folder is this
 * process's until `db.destroy()` (or exit): another process that opens it waits up to
 * `busyTimeoutMs`, then gets an `EmbeddedDatabaseBusyError` (see `openPglite`).
 * `@electric-sql/pglite` and `@electric-sql/pglite-pgvector` are optional peers, loaded on first use.
 */
export async function createPgliteDatabase<DB = Database>(
  dataDir: string,
  options: PgliteDatabaseOptions = {},
): Promise<Kysely<DB>> {
  const busyTimeoutMs = embeddedBusyTimeoutMs(options.busyTimeoutMs)
  const opened = await openPglite(dataDir, { busyTimeoutMs, onBusy: options.onBusy })
  let pool: pg.Pool
  try {
    const { createPgConfig } = await importAtRunTime<typeof import('@electric-sql/pglite/node-postgres')>(
      '@electric-sql/pglite/node-postgres',
    )
    pool = guardConnectionErrors(new pg.Pool(createPgConfig(opened.pglite) as unknown as pg.PoolConfig))
  } catch (error) {
    await opened.close()
    throw error
  }
  // PGlite closes with the dialect's driver. Kysely destroys a driver only once it has been
  // initialised (by a first query), so initialise it now: `db.destroy()` must free the folder
  // even when the database was never used.
  const db = new Kysely<DB>({ dialect: new ClosingDialect({ pool }, () => opened.close()) })
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await db.destroy().catch(() => {})
    await opened.close()
    throw error
  }
  return db
}

class ClosingDialect extends PostgresDialect {
  readonly #close: () => Promise<void>

  constructor(config: PostgresDialectConfig, close: () => Promise<void>) {
    super(config)
    this.#close = close
  }

  override createDriver(): Driver {
    const driver = super.createDriver()
    const close = this.#close
    return new Proxy(driver, {
      get(target, key) {
        if (key === 'destroy') {
          return async () => {
            try {
              await target.destroy()
            } finally {
              await close()
            }
          }
        }
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }
}
