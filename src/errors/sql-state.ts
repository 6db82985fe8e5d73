/** By PostgreSQL's own names (Appendix A of its manual), so every comparison reads as what it means. */
export const SQLSTATE = Object.freeze({
  /** Raised by the ledgers' integrity check at the end of a file's transaction. */
  LEDGER_INTEGRITY: 'WKL01',
  UNIQUE_VIOLATION: '23505',
  READ_ONLY_SQL_TRANSACTION: '25006',
  IN_FAILED_SQL_TRANSACTION: '25P02',
  INVALID_AUTHORIZATION_SPECIFICATION: '28000',
  INVALID_PASSWORD: '28P01',
  INVALID_CATALOG_NAME: '3D000',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  INSUFFICIENT_PRIVILEGE: '42501',
  UNDEFINED_COLUMN: '42703',
  DUPLICATE_OBJECT: '42710',
  UNDEFINED_TABLE: '42P01',
  DUPLICATE_DATABASE: '42P04',
  DUPLICATE_TABLE: '42P07',
  OBJECT_IN_USE: '55006',
  LOCK_NOT_AVAILABLE: '55P03',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  FEATURE_NOT_SUPPORTED: '0A000',
  UNDEFINED_FILE: '58P01',
} as const)

/** A SQLSTATE or a system error's code (`ECONNREFUSED`): the one place that reads `code` off an unknown error. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

export function sqlStateOf(error: unknown): string | undefined {
  const code = errorCode(error)
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

export type ConnectionFailureKind = 'credentials' | 'refused' | 'unknown-host' | 'no-database' | 'no-role' | 'timeout'

/** node-postgres raises a connect timeout and a missing password without a code: told by their wording. */
export function connectionFailureKind(error: unknown): ConnectionFailureKind | undefined {
  switch (errorCode(error)) {
    case SQLSTATE.INVALID_PASSWORD:
      return 'credentials'
    case SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION:
      return 'no-role'
    case SQLSTATE.INVALID_CATALOG_NAME:
      return 'no-database'
    case 'ECONNREFUSED':
      return 'refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown-host'
    case 'ETIMEDOUT':
      return 'timeout'
    case undefined: {
      const message = error instanceof Error ? error.message : ''
      if (/^(timeout expired|Connection terminated due to connection timeout|no answer within)/.test(message))
        return 'timeout'
      if (/^SASL: .*password must be a string/.test(message)) return 'credentials'
      return undefined
    }
    default:
      return undefined
  }
}

/** A connection that was lost (terminated, reset, closed) rather than refused: a read may be tried again. */
export function isLostConnection(error: unknown): boolean {
  const code = errorCode(error)
  if (typeof code === 'string')
    return code.startsWith('57P') || code.startsWith('08') || code === 'ECONNRESET' || code === 'EPIPE'
  return /Connection terminated|not queryable|ECONNRESET|EPIPE|Client has encountered a connection error/i.test(
    String((error as Error)?.message),
  )
}
