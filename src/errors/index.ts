export { MigrationError, connectionFailedReason } from './migration-error.js'
export { connectionFailureKind, errorCode } from './sql-state.js'
