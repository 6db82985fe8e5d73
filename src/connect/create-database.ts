import { Kysely, PostgresDialect } from 'kysely'
import type { Database } from '../schema-types/index.js'
import { GuardedPool } from './guarded-pool.js'
import { pgPoolConfig, type TlsSettings } from './pg-config.js'
import { embeddedDataDir } from './embedded-settings.js'
import type { NeonSettings } from './vercel-database.js'
import { assertUnambiguousUrl } from './redact.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'

export { embeddedDataDir }

/**
 * How {@link createDatabase} talks to PostgreSQL:
 * - `pg`: node-postgres over TCP, with TLS as the URL's `sslmode` says;
 * - `vercel`: `@vercel/postgres-kysely`, over a WebSocket (no TCP needed; no transactions);
 * - `pglite`: the embedded PGlite database with pgvector, in a folder or in memory.
 */
export type DatabaseDriver = 'pg' | 'vercel' | 'pglite'

/** Options of {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /** A PostgreSQL URL; without one, the embedded PGlite database. */
  readonly url?: string | undefined
  /** Default: {@link chooseDriver}. */
  readonly driver?: DatabaseDriver | undefined
  /** PGlite's data folder (`memory://` for none). Default: {@link embeddedDataDir}. */
  readonly dataDir?: string | undefined
  /**
   * pglite: longest wait, in ms, for another process to close the data folder (PGlite serves
   * one process at a time), then an `EmbeddedDatabaseBusyError`; 0 fails at once. Default
   * `WUKONG_PGLITE_BUSY_TIMEOUT_MS`, else 10 000.
   */
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

/**
 * The driver used when none is named:
 * - no URL → `pglite`, the embedded database;
 * - a URL → `pg`. The package runs on Node only (its entry imports `node:fs` and `pg`, so it
 *   never loads on the Edge runtime). Node (Vercel's serverless functions included) has TCP, and
 *   node-postgres speaks PostgreSQL's own protocol without a WebSocket proxy in between, with
 *   transactions, TLS as configured, and any URL (`@vercel/postgres` accepts pooled URLs only).
 *   Pooled URLs are as good for it as for the WebSocket driver; migrations take care of the
 *   lock either way (see `openMigrationDatabase`).
 */
export function chooseDriver(url: string | undefined): DatabaseDriver {
  return url ? 'pg' : 'pglite'
}

/**
 * A `Kysely<Database>` over pg (TCP), `@vercel/postgres-kysely` (WebSocket) or the embedded
 * PGlite (with pgvector). `db.destroy()` closes whatever it opened (on pg, it returns once the
 * server has closed the connections: see `GuardedPool`). A connection the server ends is never
 * an uncaught exception (see `guardConnectionErrors`), only the next query's error.
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
  // The embedded and vercel drivers are optional peers: their modules load only when asked for.
  if (driver === 'pglite') {
    const { createPgliteDatabase } = await import('./pglite-database.js')
    const { busyTimeoutMs, onBusy } = options
    return createPgliteDatabase<DB>(options.dataDir ?? embeddedDataDir(), { busyTimeoutMs, onBusy })
  }
  if (!options.url) throw new TypeError(`createDatabase: the ${driver} driver needs a url`)
  assertUnambiguousUrl(options.url)
  if (driver === 'vercel') {
    const { createVercelDatabase } = await import('./vercel-database.js')
    return createVercelDatabase<DB>(options.url, { neon: options.neon, max: options.max })
  }
  const pool =
    options.pool ??
    new GuardedPool(
      pgPoolConfig(options.url, {
        ssl: options.ssl,
        max: options.max,
        applicationName: options.applicationName,
        connectTimeoutMs: options.connectTimeoutMs,
        sessionLockTimeoutMs: options.sessionLockTimeoutMs,
      }),
    )
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  pools.set(db, pool)
  return db
}

// The pg pools behind the instances createDatabase made, for severConnections.
const pools = new WeakMap<object, GuardedPool>()

/**
 * Destroys the sockets of a `db` made by {@link createDatabase} with the pg driver (see
 * `GuardedPool.sever`), so that queries stuck on a peer that stopped answering fail now;
 * false for other drivers and other instances.
 */
export function severConnections(db: Kysely<any>): boolean {
  const pool = pools.get(db)
  pool?.sever()
  return pool !== undefined
}
