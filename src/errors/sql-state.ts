/** By PostgreSQL's own names (Appendix A of its manual). */
export const SQLSTATE = Object.freeze({
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
  UNDEFINED_TABLE: '42P01',
  DUPLICATE_DATABASE: '42P04',
  OBJECT_IN_USE: '55006',
  LOCK_NOT_AVAILABLE: '55P03',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  FEATURE_NOT_SUPPORTED: '0A000',
  UNDEFINED_FILE: '58P01',
} as const)

/** A SQLSTATE or a system error's code (`ECONNREFUSED`) of an unknown error. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

export function sqlStateOf(error: unknown): string | undefined {
  const code = errorCode(error)
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

export type ConnectionFailureKind = 'credentials' | 'refused' | 'unknown-host' | 'no-database' | 'no-role' | 'timeout'

const FAILURE_KINDS: ReadonlyMap<string, ConnectionFailureKind> = new Map([
  [SQLSTATE.INVALID_PASSWORD, 'credentials'],
  [SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION, 'no-role'],
  [SQLSTATE.INVALID_CATALOG_NAME, 'no-database'],
  ['ECONNREFUSED', 'refused'],
  ['ENOTFOUND', 'unknown-host'],
  ['EAI_AGAIN', 'unknown-host'],
  ['ETIMEDOUT', 'timeout'],
])

/** node-postgres raises a connect timeout and a missing password without a code: told by their wording. */
export function connectionFailureKind(error: unknown): ConnectionFailureKind | undefined {
  const code = errorCode(error)
  if (code !== undefined) return FAILURE_KINDS.get(code)
  const message = error instanceof Error ? error.message : ''
  if (/^(timeout expired|Connection terminated due to connection timeout|no answer within)/.test(message))
    return 'timeout'
  return /^SASL: .*password must be a string/.test(message) ? 'credentials' : undefined
}

/** A connection that was lost (terminated, reset, closed) rather than refused: a read may be tried again. */
export function isLostConnection(error: unknown): boolean {
  const code = errorCode(error) ?? String((error as Error)?.message)
  return /^(57P|08)|ECONNRESET|EPIPE|Connection terminated|not queryable|Client has encountered a connection error/i.test(
    code,
  )
}
