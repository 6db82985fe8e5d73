/**
 * Every error this package throws about a migration file, a ledger or a database.
 *
 * `code` is stable: match on it, not on the message. `file`, `line` and `column` (1-based)
 * say where the problem is when it is in a file.
 *
 * @example
 * ```ts
 * try {
 *   await runner.migrate()
 * } catch (error) {
 *   if (error instanceof MigrationError && error.code === 'SQL_SYNTAX_ERROR') {
 *     console.error(`${error.file}:${error.line}:${error.column}`)
 *   }
 * }
 * ```
 */
export class MigrationError extends Error {
  override readonly name: string = 'MigrationError'
  readonly code: MigrationErrorCode
  readonly file?: string | undefined
  readonly line?: number | undefined
  readonly column?: number | undefined

  constructor(code: MigrationErrorCode, message: string, context: MigrationErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause })
    this.code = code
    this.file = context.file
    this.line = context.line
    this.column = context.column
  }
}

/** Where a {@link MigrationError} points, and what caused it. */
export interface MigrationErrorContext {
  readonly file?: string | undefined
  readonly line?: number | undefined
  readonly column?: number | undefined
  readonly cause?: unknown
}

/**
 * The stable codes of {@link MigrationError}.
 *
 * @example
 * ```ts
 * const retryable: MigrationErrorCode[] = ['LOCK_TIMEOUT', 'CONNECTION_FAILED']
 * ```
 */
export type MigrationErrorCode =
  // the folder and file names
  | 'FOLDER_NOT_FOUND'
  | 'INVALID_FILE_NAME'
  | 'DUPLICATE_VERSION'
  | 'MIXED_VERSION_WIDTH'
  | 'ORPHAN_DOWN_FILE'
  | 'UNREADABLE_FILE'
  | 'FILE_OUTSIDE_FOLDER'
  // a file's contents
  | 'INVALID_UTF8'
  | 'NUL_BYTE'
  | 'EMPTY_MIGRATION'
  | 'SQL_SYNTAX_ERROR'
  | 'TRANSACTION_CONTROL'
  | 'NON_TRANSACTIONAL_STATEMENT'
  | 'UNKNOWN_DIRECTIVE'
  | 'WRONG_LEDGER_VERSION'
  // the database
  | 'MIGRATION_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'MISSING_MIGRATION_FILE'
  | 'NON_TRANSACTIONAL_IN_TRANSACTION'
  | 'LOCK_TIMEOUT'
  | 'STATEMENT_TIMEOUT'
  | 'CONNECTION_FAILED'
  | 'MISSING_EXTENSION'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'DRIVER_NOT_INSTALLED'
