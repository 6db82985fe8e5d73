/**
 * Every error this package throws about a migration file, a ledger or a database. Match on the
 * stable `code`; `message` is `file:line:column: reason (SQLSTATE xxxxx)` (1-based positions).
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
  /** What went wrong, without the location or the SQLSTATE. */
  readonly reason: string
  readonly sqlState?: string | undefined

  constructor(code: MigrationErrorCode, reason: string, context: MigrationErrorContext = {}) {
    super(formatMessage(reason, context), context.cause === undefined ? undefined : { cause: context.cause })
    this.code = code
    this.reason = reason
    this.file = context.file
    this.line = context.line
    this.column = context.column
    this.sqlState = context.sqlState
  }
}

function formatMessage(reason: string, { file, line, column, sqlState }: MigrationErrorContext): string {
  const where = file === undefined ? '' : line === undefined ? `${file}: ` : `${file}:${line}:${column ?? 1}: `
  return `${where}${reason}${sqlState === undefined ? '' : ` (SQLSTATE ${sqlState})`}`
}

/** Where a {@link MigrationError} points, and what caused it. */
export interface MigrationErrorContext {
  readonly file?: string | undefined
  readonly line?: number | undefined
  readonly column?: number | undefined
  /** PostgreSQL's SQLSTATE, when the server reported the error. */
  readonly sqlState?: string | undefined
  readonly cause?: unknown | undefined
}

/**
 * The stable codes of {@link MigrationError}.
 *
 * @example
 * ```ts
 * const retryable: MigrationErrorCode[] = ['LOCK_TIMEOUT', 'CONNECTION_FAILED']
 * ```
 */
// biome-ignore format: grouped by where the problem is
export type MigrationErrorCode =
  // the folder and file names
  | 'FOLDER_NOT_FOUND' | 'INVALID_FILE_NAME' | 'DUPLICATE_VERSION' | 'MIXED_VERSION_WIDTH' | 'ORPHAN_DOWN_FILE'
  | 'UNREADABLE_FILE' | 'FILE_OUTSIDE_FOLDER'
  // a file's contents
  | 'INVALID_UTF8' | 'NUL_BYTE' | 'EMPTY_MIGRATION' | 'SQL_SYNTAX_ERROR' | 'TRANSACTION_CONTROL'
  | 'NON_TRANSACTIONAL_STATEMENT' | 'UNKNOWN_DIRECTIVE' | 'WRONG_LEDGER_VERSION' | 'UNSUPPORTED_STATEMENT'
  | 'LEDGER_WRITE' | 'MIGRATION_LOCK_RELEASE' | 'LIMIT_OVERRIDE'
  // the database
  | 'MIGRATION_FAILED' | 'CHECKSUM_MISMATCH' | 'BOOKKEEPING_FAILED' | 'MISSING_MIGRATION_FILE'
  | 'RENAMED_MIGRATION_FILE' | 'NO_DOWN_FILE' | 'AMBIGUOUS_LEDGER' | 'LEDGER_SHAPE' | 'VERSION_OUT_OF_RANGE'
  | 'NON_TRANSACTIONAL_IN_TRANSACTION' | 'LOCK_TIMEOUT' | 'STATEMENT_TIMEOUT' | 'CONNECTION_FAILED'
  | 'INTERRUPTED' | 'NO_DATABASE_URL' | 'EMBEDDED_DATABASE_BUSY' | 'MISSING_EXTENSION' | 'PERMISSION_DENIED' | 'NOT_FOUND'
  | 'DRIVER_NOT_INSTALLED' | 'ADOPTION_MISMATCH' | 'OUT_OF_ORDER' | 'READ_ONLY_DATABASE' | 'INVALID_INDEX'
  // comparing schemas (diff, verify --roundtrip)
  | 'SHADOW_NOT_EMPTY' | 'SHADOW_FAILED'

/** One wording wherever a `CONNECTION_FAILED` reason is built; `url` must be redacted already. */
export function connectionFailedReason(props: {
  readonly where: string
  readonly url?: string | null | undefined
  readonly reason: string
  readonly lost: boolean
}): string {
  const shown = props.url ? ` (${props.url})` : ''
  const what = props.lost ? 'lost the connection to the database' : 'cannot connect to the database'
  return `${what} from ${props.where}${shown}: ${props.reason}`
}
