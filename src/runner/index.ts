export {
  MigrationRunner,
  MigrationRunError,
  type MigrationRunnerOptions,
  type MigrateResult,
  type MigrationFileResult,
  type MigrationFileStatus,
} from './migration-runner.js'
