export { createDatabase, chooseDriver, type DatabaseDriver } from './create-database.js'
export {
  openMigrationDatabase,
  resolveMigrationUrl,
  type OpenMigrationDatabaseOptions,
  type MigrationDatabase,
  type MigrationLockKind,
} from './open-migration-database.js'
export { withTransactionScopedMigrationLock } from './transaction-scoped-migration-lock.js'
export { withBoundedSessionMigrationLock } from './session-migration-lock.js'
export { MIGRATION_LOCK_KEY } from './transaction-scoped-migration-lock.js'
export { isPooledUrl } from './pooled-url.js'
export { pgPoolConfig, tlsFromUrl, type TlsSettings } from './pg-config.js'
export type { NeonSettings } from './vercel-database.js'
export { embeddedDataDir } from './embedded-settings.js'
export { lockEmbeddedFolder, lockFileOf } from './embedded-folder-lock.js'
export { EmbeddedDatabaseBusyError } from './embedded-database-busy-error.js'
export { thrownText } from './thrown-text.js'
export { guardConnectionErrors } from './guard-connection-errors.js'
export { GuardedPool } from './guarded-pool.js'
export {
  resolveDatabaseUrl,
  DATABASE_URL_VARIABLES,
  POOLED_FIRST_URL_VARIABLES,
  type DatabaseUrlSource,
} from './resolve-database-url.js'
export { redact, redactUrl } from './redact.js'
