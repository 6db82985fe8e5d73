import type { Kysely } from 'kysely'

import type { Database } from '../schema-types/index.js'
import { chooseDriver, createDatabase, severConnections, type DatabaseDriver } from './create-database.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import type { GuardedPool } from './guarded-pool.js'
import { MIGRATION_POOL, urlParameter, type TlsSettings } from './pg-config.js'
import { embeddedBusyTimeoutMs } from './embedded-settings.js'
import { isPooledUrl } from './pooled-url.js'
import { NoDatabaseUrlError } from '../errors/no-database-url-error.js'
import {
  DATABASE_URL_VARIABLES,
  POOLED_FIRST_URL_VARIABLES,
  productionSignals,
  resolveDatabaseUrl,
  type DatabaseUrlSource,
  type ResolvedDatabaseUrl,
} from './resolve-database-url.js'
import { withBoundedSessionMigrationLock } from './session-migration-lock.js'
import { withTransactionScopedMigrationLock } from './transaction-scoped-migration-lock.js'
import type { NeonSettings } from './vercel-database.js'
import type { MigrationTimeouts } from '../provider/migration-timeouts.js'

/**
 * How migrators exclude one another: `session`, an advisory lock that ends with the Migrator's server
 * session (a direct URL, PGlite); `transaction`, one held by an open transaction on a second connection,
 * which no pooler can separate from its session.
 */
export type MigrationLockKind = 'session' | 'transaction'

/** Options of {@link openMigrationDatabase}; every one is optional. */
export interface OpenMigrationDatabaseOptions {
  /** A PostgreSQL URL. Default: from `env` (see {@link openMigrationDatabase}), else the embedded database. */
  readonly url?: string | undefined
  /** Where URLs are looked up. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined
  /**
   * `true`: the embedded database whatever the environment holds; `false`: never (no URL is then a
   * {@link NoDatabaseUrlError}). Default: the fallback when no URL is set, except where the process looks like production.
   */
  readonly embedded?: boolean | undefined
  /** Default: `chooseDriver(url)`: pglite without a URL, else pg. */
  readonly driver?: DatabaseDriver | undefined
  /** Declare the URL pooled or direct, overriding `isPooledUrl`'s detection. */
  readonly pooled?: boolean | undefined
  /** Force a lock kind. Default: `transaction` for pooled URLs and the vercel driver, else `session`. */
  readonly lock?: MigrationLockKind | undefined
  /** `lockWaitMs` (pg, vercel), `connectMs` (pg), `embeddedBusyMs` (pglite); `lockMs`: `lock_timeout` of direct pg sessions. */
  readonly timeouts?: MigrationTimeouts | undefined
  /** `transaction` lock: interval of the keep-alive query on the lock's connection. Default 5 000 ms. */
  readonly lockHeartbeatMs?: number | undefined
  /** pglite: data folder (`memory://` for none). Default: `embeddedDataDir()`. */
  readonly dataDir?: string | undefined
  /** pglite: called once when the data folder is open in another process and the wait begins. */
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
  /** pg: TLS options over the URL's `sslmode`. */
  readonly ssl?: TlsSettings | undefined
  /** vercel: settings of `@neondatabase/serverless` (process-wide), e.g. a local `wsProxy`. */
  readonly neon?: NeonSettings | undefined
  /** @internal pg: a pool already open for this URL (the runner's boot check), with no session settings. */
  readonly pool?: GuardedPool | undefined
}

// Decided once and handed to openMigrationDatabase, so the runner reports the source it really used.
export function resolveMigrationUrl(options: OpenMigrationDatabaseOptions = {}): ResolvedDatabaseUrl {
  const env = options.env ?? process.env
  const order = options.driver === 'vercel' ? POOLED_FIRST_URL_VARIABLES : DATABASE_URL_VARIABLES
  const resolved = options.embedded === true ? embeddedOnly(options) : resolveDatabaseUrl(options.url, env, order)
  if (resolved.source === 'embedded' && options.embedded !== true) {
    const signals = productionSignals(env)
    if (options.embedded === false || signals.length)
      throw new NoDatabaseUrlError(order, options.embedded === false ? [] : signals)
  }
  return resolved
}

/** A database opened for migrating, and how to hand it to Kysely's Migrator. */
export interface MigrationDatabase<DB = Database> {
  /** Give this to `new Migrator({ db, provider, ...migratorOptions })`; other queries may use it too. */
  readonly db: Kysely<DB>
  readonly driver: DatabaseDriver
  /** Which setting chose the database. */
  readonly source: DatabaseUrlSource
  /** The URL used (it may hold a password: redact before showing it); undefined for the embedded database. */
  readonly url?: string | undefined
  /** Whether the URL goes through a transaction-mode pooler (`isPooledUrl`, or the `pooled` option). */
  readonly pooled: boolean
  readonly lock: MigrationLockKind
  /** Always `{ disableTransactions: true }`: the provider makes each file atomic with its ledger row by itself. */
  readonly migratorOptions: Readonly<{ disableTransactions: boolean }>
  /** The `lock_timeout` every session of `db` starts with (see `timeouts.lockMs`); undefined when none is set. */
  readonly sessionLockTimeoutMs: number | undefined
  /** Closes the pool (and PGlite). Same as `db.destroy()`. */
  close(): Promise<void>
  /** pg: destroys every socket now (see `severConnections`), so queries stuck in flight fail; then `close()`. */
  sever(): void
}

/**
 * Opens the database to migrate (`url`, else the environment's URL variables, direct ones first,
 * else the embedded database) with the lock that is safe for how it is reached: `transaction` for
 * pooled URLs and the vercel driver, else `session`. No URL where the process looks like production
 * is a {@link NoDatabaseUrlError}.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely/migration'
 *
 * const target = await openMigrationDatabase() // POSTGRES_URL_NON_POOLING, else POSTGRES_URL, …
 * try {
 *   const migrator = new Migrator({ db: target.db, provider: new SqlFileMigrationProvider(), ...target.migratorOptions })
 *   const { error } = await migrator.migrateToLatest()
 *   if (error) throw error
 * } finally {
 *   await target.close()
 * }
 * ```
 */
export async function openMigrationDatabase<DB = Database>(
  options: OpenMigrationDatabaseOptions = {},
  resolved: ResolvedDatabaseUrl = resolveMigrationUrl(options),
): Promise<MigrationDatabase<DB>> {
  const env = options.env ?? process.env
  const { url, source } = resolved
  const driver = options.driver ?? chooseDriver(url)
  const pooled = url ? isPooledUrl(url, { pooled: options.pooled }) : false
  const lock: MigrationLockKind =
    options.lock ?? (driver !== 'pglite' && (pooled || driver === 'vercel') ? 'transaction' : 'session')
  if (lock === 'transaction' && driver === 'pglite') {
    throw new TypeError(
      'openMigrationDatabase: the transaction lock needs a second connection, which the embedded database does not have',
    )
  }
  const timeouts = options.timeouts ?? {}
  const sessionLockTimeoutMs =
    timeouts.lockMs !== undefined &&
    driver === 'pg' &&
    lock === 'session' &&
    url &&
    !options.pool &&
    urlParameter(url, 'options') === null
      ? Math.max(0, Math.trunc(timeouts.lockMs))
      : undefined
  const base = await createDatabase<DB>({
    url,
    driver,
    dataDir: options.dataDir,
    busyTimeoutMs: driver === 'pglite' ? embeddedBusyTimeoutMs(timeouts.embeddedBusyMs, env) : undefined,
    onBusy: options.onBusy,
    ...MIGRATION_POOL,
    ssl: options.ssl,
    neon: options.neon,
    connectTimeoutMs: timeouts.connectMs,
    sessionLockTimeoutMs,
    pool: options.pool,
  })
  const wait = { waitTimeoutMs: timeouts.lockWaitMs }
  const db =
    lock === 'transaction'
      ? withTransactionScopedMigrationLock(base, { ...wait, heartbeatMs: options.lockHeartbeatMs })
      : driver === 'pg'
        ? withBoundedSessionMigrationLock(base, wait)
        : base
  return Object.freeze({
    db,
    driver,
    source,
    url,
    pooled,
    lock,
    migratorOptions: Object.freeze({ disableTransactions: true }),
    sessionLockTimeoutMs,
    close: () => base.destroy(),
    sever: () => void severConnections(base),
  })
}

function embeddedOnly(options: OpenMigrationDatabaseOptions): { url: undefined; source: 'embedded' } {
  if (options.url) throw new TypeError('openMigrationDatabase: pass either url or embedded: true, not both')
  if (options.driver && options.driver !== 'pglite')
    throw new TypeError(`openMigrationDatabase: embedded: true uses the pglite driver, not ${options.driver}`)
  return { url: undefined, source: 'embedded' }
}
