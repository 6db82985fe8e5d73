export { SqlFileMigrationProvider, type SqlFileMigrationProviderProps } from './sql-file-migration-provider.js'
export { DEFAULT_MIGRATION_FOLDER } from './package-migration-folder.js'
export { WUKONG_MIGRATIONS } from './wukong-migrations.js'
export { MigrationError, type MigrationErrorCode, type MigrationErrorContext } from '../errors/index.js'
export { MigrationSqlError, type ServerErrorFields } from './migration-sql-error.js'
export type { ApplyEvent, ApplyKind } from './apply-migration.js'
export type { MigrationFile, MigrationDownFile } from './migration-file.js'
export {
  NO_TRANSACTION_DIRECTIVE,
  OWN_TIMEOUTS_DIRECTIVE,
  DIRECTIVE_LINE,
  directiveLineCount,
  type SqlStatement,
  type ParsedSql,
} from './parse-migration-sql.js'
export { findHazards, type StatementHazard, type HazardContext } from './statement-guards.js'
export {
  readMigrationFolder,
  scanMigrationFolder,
  parseMigrationFiles,
  versionWidth,
  MIGRATION_FILE_PATTERN,
  type CollectProblems,
} from './read-migration-folder.js'
export { readLedgerSnapshot, LEDGER_TABLES, type LedgerRow, type LedgerSnapshot } from './ledger.js'
export {
  planMigrations,
  type MigrationStatus,
  type AppliedMigration,
  type PendingMigration,
  type DriftedMigration,
  type MissingMigration,
  type RenamedMigration,
} from './migration-plan.js'
export { AdoptionMismatchError, expectedObjects, assertAdoptable, type CreatedObject } from './adoption-check.js'
