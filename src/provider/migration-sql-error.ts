import { MigrationError, type MigrationErrorCode } from '../errors/migration-error.js'
import { lineColumnAt, lineOf } from './sql-text.js'
import { SQLSTATE } from '../errors/sql-state.js'

/** What PostgreSQL said about a failed statement (the fields of pg's `DatabaseError`). */
export interface ServerErrorFields {
  readonly sqlState?: string
  readonly detail?: string
  readonly hint?: string
  readonly where?: string
}

/**
 * A migration file failed on the server: `line`/`column` point into the file, `sourceLine` is that line's text.
 *
 * @example
 * ```ts
 * if (error instanceof MigrationSqlError) {
 *   console.error(error.sourceLine)
 *   console.error(' '.repeat((error.column ?? 1) - 1) + '^')
 * }
 * ```
 */
export class MigrationSqlError extends MigrationError {
  override readonly name: string = 'MigrationSqlError'
  readonly server: ServerErrorFields
  readonly sourceLine?: string

  constructor(
    code: MigrationErrorCode,
    message: string,
    file: string,
    text: string | undefined,
    offset: number | undefined,
    server: ServerErrorFields,
    cause: unknown,
  ) {
    const at = text !== undefined && offset !== undefined ? lineColumnAt(text, offset) : undefined
    super(code, message, { file, line: at?.line, column: at?.column, sqlState: server.sqlState, cause })
    this.server = Object.freeze({ ...server })
    this.sourceLine = at && text !== undefined ? lineOf(text, at.line) : undefined
  }
}

export interface PgErrorLike {
  readonly message: string
  readonly code?: string
  readonly position?: string
  readonly detail?: string
  readonly hint?: string
  readonly where?: string
  readonly constraint?: string
}

export function isServerError(error: unknown): error is PgErrorLike & { code: string } {
  return (
    error instanceof Error &&
    typeof (error as PgErrorLike).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as PgErrorLike).code!)
  )
}

export function codeForServerError(sqlState: string | undefined, message: string): MigrationErrorCode {
  if (sqlState === undefined) return 'CONNECTION_FAILED'
  if (sqlState === SQLSTATE.LOCK_NOT_AVAILABLE) return 'LOCK_TIMEOUT'
  if (sqlState === SQLSTATE.LEDGER_INTEGRITY) return 'LEDGER_WRITE'
  if (sqlState === SQLSTATE.QUERY_CANCELED) return /lock timeout/i.test(message) ? 'LOCK_TIMEOUT' : 'STATEMENT_TIMEOUT'
  if (sqlState === SQLSTATE.INSUFFICIENT_PRIVILEGE) return 'PERMISSION_DENIED'
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return 'READ_ONLY_DATABASE'
  const noExtension = [SQLSTATE.FEATURE_NOT_SUPPORTED, SQLSTATE.UNDEFINED_FILE] as string[]
  if (noExtension.includes(sqlState) && /extension/i.test(message)) return 'MISSING_EXTENSION'
  const shutdown = [SQLSTATE.ADMIN_SHUTDOWN, SQLSTATE.CRASH_SHUTDOWN, SQLSTATE.CANNOT_CONNECT_NOW] as string[]
  return sqlState.startsWith('08') || shutdown.includes(sqlState) ? 'CONNECTION_FAILED' : 'MIGRATION_FAILED'
}

// Replaying a file to find the failing line is pointless after a timeout or lost connection, harmful when read-only.
export function worthLocating(sqlState: string | undefined): boolean {
  if (sqlState === undefined) return false
  const pointless: readonly string[] = [
    SQLSTATE.QUERY_CANCELED,
    SQLSTATE.LOCK_NOT_AVAILABLE,
    SQLSTATE.DEADLOCK_DETECTED,
    SQLSTATE.SERIALIZATION_FAILURE,
    SQLSTATE.IN_FAILED_SQL_TRANSACTION,
    SQLSTATE.READ_ONLY_SQL_TRANSACTION,
    SQLSTATE.LEDGER_INTEGRITY,
  ]
  return !pointless.includes(sqlState) && !sqlState.startsWith('08') && !sqlState.startsWith('57')
}

/** Wraps any error from running a file in a {@link MigrationError} that names the file. */
export function toMigrationError(error: unknown, fileName: string, text?: string, offset?: number): MigrationError {
  if (error instanceof MigrationError) return error
  const pg = error as PgErrorLike
  const sqlState = isServerError(error) ? pg.code : undefined
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return readOnlyError(error)
  const message = error instanceof Error ? error.message : String(error)
  const { detail, hint, where } = pg
  const code = codeForServerError(sqlState, message)
  return new MigrationSqlError(code, message, fileName, text, offset, { sqlState, detail, hint, where }, error)
}

// The database's state, not a file's fault (its ledger row is refused too), so the error names no file.
export function readOnlyError(error: unknown): MigrationError {
  const advice = 'nothing was applied; migrate the primary (read-write) server (SQLSTATE 25006)'
  const reason = `the database is read-only (${(error as Error).message}): it is a standby, or default_transaction_read_only is on; ${advice}`
  return new MigrationError('READ_ONLY_DATABASE', reason, { cause: error })
}
