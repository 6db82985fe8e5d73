export { MigrationError, type MigrationErrorCode, type MigrationErrorContext } from './migration-error.js'
