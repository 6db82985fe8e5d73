export {
  createDatabase,
  chooseDriver,
  embeddedDataDir,
  type CreateDatabaseOptions,
  type DatabaseDriver,
} from './create-database.js'
export {
  openMigrationDatabase,
  resolveMigrationUrl,
  type OpenMigrationDatabaseOptions,
  type MigrationDatabase,
  type MigrationLockKind,
} from './open-migration-database.js'
export {
  withTransactionScopedMigrationLock,
  TransactionScopedMigrationLockAdapter,
  MIGRATION_LOCK_KEY,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  DEFAULT_LOCK_HEARTBEAT_MS,
  type TransactionScopedMigrationLockOptions,
  type LockWait,
} from './transaction-scoped-migration-lock.js'
export {
  withBoundedSessionMigrationLock,
  BoundedSessionMigrationLockAdapter,
  type BoundedSessionMigrationLockOptions,
} from './session-migration-lock.js'
export { describeSession, type SessionSummary } from '../provider/session-summary.js'
export { isPooledUrl, POOLER_PORTS, type PooledUrlOptions } from './pooled-url.js'
export {
  pgPoolConfig,
  tlsFromUrl,
  connectTimeoutOf,
  DEFAULT_CONNECT_TIMEOUT_MS,
  KEEPALIVE_INITIAL_DELAY_MS,
  type PgPoolOptions,
  type SslMode,
  type TlsSettings,
} from './pg-config.js'
export {
  createVercelDatabase,
  configureNeon,
  type NeonSettings,
  type VercelDatabaseOptions,
} from './vercel-database.js'
export { createPgliteDatabase, type PgliteDatabaseOptions } from './pglite-database.js'
export { embeddedBusyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS } from './embedded-settings.js'
export {
  lockEmbeddedFolder,
  lockFileOf,
  EmbeddedFolderLock,
  type LockEmbeddedFolderOptions,
} from './embedded-folder-lock.js'
export { EmbeddedDatabaseBusyError, type EmbeddedFolderHolder } from './embedded-database-busy-error.js'
export { thrownText, asError } from './thrown-text.js'
export { guardConnectionErrors, type ConnectionErrorSource } from './guard-connection-errors.js'
export { GuardedPool, DEFAULT_SOCKET_CLOSE_TIMEOUT_MS, type GuardedPoolOptions } from './guarded-pool.js'
export { importDriver } from './import-driver.js'
export {
  resolveDatabaseUrl,
  productionSignals,
  DATABASE_URL_VARIABLES,
  POOLED_FIRST_URL_VARIABLES,
  type ResolvedDatabaseUrl,
  type DatabaseUrlSource,
} from './resolve-database-url.js'
export { redact, redactUrl, passwordOf, urlSecrets, assertUnambiguousUrl } from './redact.js'
