export { MigrationError, type MigrationErrorCode, type MigrationErrorContext } from './migration-error.js'
export { NoDatabaseUrlError } from './no-database-url-error.js'
