// The public API: what the README and docs teach, the errors a caller handles, and the types
// of their options and results. Everything else is internal.

// Migrating
export { MigrationRunner } from './runner/runner.js'
export type { MigrationRunnerOptions } from './runner/migration-runner.js'
export type { MigrationTimeouts } from './provider/migration-timeouts.js'
export {
  MigrationRunError,
  type MigrateResult,
  type MigrationFileResult,
  type MigrationFileStatus,
} from './runner/migration-run-error.js'
export { SqlFileMigrationProvider, type SqlFileMigrationProviderProps } from './provider/sql-file-migration-provider.js'
export { DEFAULT_MIGRATION_FOLDER } from './provider/package-migration-folder.js'
export { WUKONG_MIGRATIONS } from './provider/wukong-migrations.js'
export { readMigrationFolder } from './provider/parse-migration-files.js'
export type { ApplyEvent, ApplyKind } from './provider/apply-migration.js'
export type { MigrationFile, MigrationDownFile } from './provider/migration-file.js'
export type {
  MigrationStatus,
  AppliedMigration,
  PendingMigration,
  DriftedMigration,
  MissingMigration,
  RenamedMigration,
} from './provider/migration-plan.js'
export type { SchemaDiff } from './schema-diff/diff-schema.js'
export type { RoundTripReport, RoundTripFile, RoundTripOutcome } from './schema-diff/verify-round-trip.js'

// Errors
export {
  MigrationError,
  type MigrationErrorCode,
  type MigrationErrorContext,
} from './errors/migration-error.js'
export { MigrationSqlError, type ServerErrorFields } from './provider/migration-sql-error.js'
export { AdoptionMismatchError } from './provider/adoption-check.js'
export { StillRunningError } from './runner/still-running-error.js'
export { NoDatabaseUrlError } from './errors/no-database-url-error.js'
export { EmbeddedDatabaseBusyError } from './connect/embedded-database-busy-error.js'

// Connecting
export { createDatabase, type CreateDatabaseOptions, type DatabaseDriver } from './connect/create-database.js'
export {
  openMigrationDatabase,
  type OpenMigrationDatabaseOptions,
  type MigrationDatabase,
  type MigrationLockKind,
} from './connect/open-migration-database.js'
export { withTransactionScopedMigrationLock } from './connect/transaction-scoped-migration-lock.js'
export { withBoundedSessionMigrationLock } from './connect/session-migration-lock.js'
export { isPooledUrl } from './connect/pooled-url.js'
export { configureNeon, type NeonSettings } from './connect/vercel-database.js'
export type { DatabaseUrlSource } from './connect/resolve-database-url.js'

// Typed queries
export { registerVectorType, VectorPlugin, cosineDistance, type VectorColumnReference } from './schema-types/vector.js'
export { DATABASE_COLUMNS } from './schema-types/database-columns.js'
export { findSchemaDifferences } from './schema-types/catalog-columns.js'
export type * from './schema-types/database.js'
export type * from './schema-types/tables.js'
export type * from './schema-types/columns.js'
export type * from './schema-types/json.js'
