export {
  MigrationError,
  connectionFailedReason,
  type MigrationErrorCode,
  type MigrationErrorContext,
} from './migration-error.js'
export { NoDatabaseUrlError } from './no-database-url-error.js'
export { SQLSTATE, connectionFailureKind, errorCode, sqlStateOf, type ConnectionFailureKind } from './sql-state.js'
