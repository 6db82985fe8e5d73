import { Kysely, PostgresDialect } from 'kysely'
import type { Database } from '../schema-types/index.js'
import { GuardedPool } from './guarded-pool.js'
import { pgPoolConfig, type TlsSettings } from './pg-config.js'
import { embeddedDataDir } from './embedded-settings.js'
import type { NeonSettings } from './vercel-database.js'
import { assertUnambiguousUrl } from './redact.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'

/** How {@link createDatabase} talks to PostgreSQL: node-postgres over TCP, `@vercel/postgres-kysely` over a WebSocket, or PGlite. */
export type DatabaseDriver = 'pg' | 'vercel' | 'pglite'

/** Options of {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /** A PostgreSQL URL; without one, the embedded PGlite database. */
  readonly url?: string | undefined
  /** Default: {@link chooseDriver}. */
  readonly driver?: DatabaseDriver | undefined
  /** PGlite's data folder (`memory://` for none). Default: {@link embeddedDataDir}. */
  readonly dataDir?: string | undefined
  /** pglite: longest wait for another process to close the folder, then an `EmbeddedDatabaseBusyError`. Default 10 000 ms. */
  readonly busyTimeoutMs?: number | undefined
  /** pglite: called once when the data folder is open in another process and the wait begins. */
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
  /** Pool size (pg and vercel). Default 10. */
  readonly max?: number | undefined
  /** pg: TLS options over the URL's `sslmode` (see `tlsFromUrl`); `false` turns TLS off. */
  readonly ssl?: TlsSettings | undefined
  /** pg: `application_name` shown in `pg_stat_activity`. */
  readonly applicationName?: string | undefined
  /** pg: longest wait for a connection (see `pgPoolConfig`). Default 30 000 ms. */
  readonly connectTimeoutMs?: number | undefined
  /** pg, direct URLs only: `lock_timeout` of every session, set at connection start. */
  readonly sessionLockTimeoutMs?: number | undefined
  /** vercel: settings of `@neondatabase/serverless` (process-wide), e.g. a local `wsProxy`. */
  readonly neon?: NeonSettings | undefined
  /** @internal pg: a pool already open for this URL, used instead of a new one. */
  readonly pool?: GuardedPool | undefined
}

// A URL means pg: the package runs on Node, which has TCP, and pg takes any URL with transactions.
export function chooseDriver(url: string | undefined): DatabaseDriver {
  return url ? 'pg' : 'pglite'
}

/**
 * A `Kysely<Database>` over pg, `@vercel/postgres-kysely` or the embedded PGlite (with pgvector),
 * whose `destroy()` closes all it opened. A dropped connection is the next query's error, never
 * an uncaught exception.
 *
 * @example
 * ```ts
 * const db = await createDatabase({ url: process.env.POSTGRES_URL })
 * const versions = await db.selectFrom('schema_versions').select('version').execute()
 * await db.destroy()
 * ```
 */
export async function createDatabase<DB = Database>(options: CreateDatabaseOptions = {}): Promise<Kysely<DB>> {
  const driver = options.driver ?? chooseDriver(options.url)
  // Optional peers: loaded only when asked for.
  if (driver === 'pglite') {
    const { createPgliteDatabase } = await import('./open-pglite.js')
    return createPgliteDatabase<DB>(options.dataDir ?? embeddedDataDir(), options)
  }
  if (!options.url) throw new TypeError(`createDatabase: the ${driver} driver needs a url`)
  assertUnambiguousUrl(options.url)
  if (driver === 'vercel') {
    const { createVercelDatabase } = await import('./vercel-database.js')
    return createVercelDatabase<DB>(options.url, options)
  }
  const pool = options.pool ?? new GuardedPool(pgPoolConfig(options.url, options))
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  pools.set(db, pool)
  return db
}

const pools = new WeakMap<object, GuardedPool>()

/** Destroys the sockets of a pg `db` made by {@link createDatabase} (see `GuardedPool.sever`). */
export function severConnections(db: Kysely<any>): void {
  pools.get(db)?.sever()
}
