export { SqlFileMigrationProvider } from './sql-file-migration-provider.js'
export { MigrationError } from '../errors/index.js'
export type { ApplyEvent } from './apply-migration.js'
export type { MigrationFile } from './migration-file.js'
export { NO_TRANSACTION_DIRECTIVE, OWN_TIMEOUTS_DIRECTIVE } from './parse-migration-sql.js'
export {
  readMigrationFolder,
  scanMigrationFolder,
  parseMigrationFiles,
  versionWidth,
  MIGRATION_FILE_PATTERN,
} from './read-migration-folder.js'
export type { AppliedMigration, MigrationStatus } from './migration-plan.js'
export { expectedObjects } from './adoption-check.js'
