export { createDatabase, chooseDriver, embeddedDataDir, type CreateDatabaseOptions, type DatabaseDriver } from './create-database.js'
export { openMigrationDatabase, type OpenMigrationDatabaseOptions, type MigrationDatabase, type MigrationLockKind } from './open-migration-database.js'
export {
  withTransactionScopedMigrationLock,
  TransactionScopedMigrationLockAdapter,
  MIGRATION_LOCK_KEY,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  DEFAULT_LOCK_HEARTBEAT_MS,
  type TransactionScopedMigrationLockOptions,
  type LockWait,
} from './transaction-scoped-migration-lock.js'
export { isPooledUrl, POOLER_PORTS, type PooledUrlOptions } from './pooled-url.js'
export { pgPoolConfig, tlsFromUrl, type PgPoolOptions, type SslMode, type TlsSettings } from './pg-config.js'
export { createVercelDatabase, configureNeon, type NeonSettings, type VercelDatabaseOptions } from './vercel-database.js'
export { createPgliteDatabase } from './pglite-database.js'
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
export { redact, passwordOf } from './redact.js'
