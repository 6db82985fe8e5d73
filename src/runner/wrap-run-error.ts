import { DATABASE_URL_VARIABLES, type DatabaseUrlSource } from '../connect/resolve-database-url.js'
import { connectTimeoutOf } from '../connect/pg-config.js'
import { redact, urlSecrets } from '../connect/redact.js'
import { asError, thrownText } from '../connect/thrown-text.js'
import { connectionFailedReason, MigrationError } from '../errors/migration-error.js'
import { SQLSTATE, errorCode, sqlStateOf } from '../errors/sql-state.js'
import { codeForServerError, readOnlyError } from '../provider/migration-sql-error.js'

/** Where the runner's database came from, for an error that names it. */
export interface WrapContext {
  readonly url: string | undefined
  readonly urlOption: string | undefined
  readonly env: NodeJS.ProcessEnv
  readonly source: DatabaseUrlSource | 'db'
  /** The resolved connect timeout, to name in pg's wording-free timeout error. */
  readonly connectMs: number
}

/** Any failure of a run as a redacted {@link MigrationError}: CONNECTION_FAILED names the setting that chose the database. */
export function wrapRunError(error: unknown, context: WrapContext): MigrationError {
  const { url, urlOption, env, source } = context
  const candidates = [url, urlOption, ...DATABASE_URL_VARIABLES.map((name) => env[name])]
  const secrets = candidates.flatMap((u) => (u ? urlSecrets(u) : []))
  if (error instanceof MigrationError) {
    if (!secrets.some((s) => error.message.includes(s))) return error
    const { file, line, column, sqlState } = error
    return new MigrationError(error.code, redact(error.reason, secrets), { file, line, column, sqlState })
  }
  // pg's words for its connect timeout name neither the bound nor the phase.
  const message = /due to connection timeout|timeout expired/i.test(thrownText(error))
    ? `no answer within ${connectTimeoutOf(url ?? '', context.connectMs)} ms while connecting and logging in (connect timeout)`
    : redact(thrownText(error), secrets)
  const code = errorCode(error)
  const sqlState = sqlStateOf(error)
  if (sqlState === SQLSTATE.READ_ONLY_SQL_TRANSACTION) return readOnlyError(error)
  // Refusals at login (bad password, unknown database) are connection failures like a refused socket.
  const refused: readonly string[] = [
    SQLSTATE.INVALID_PASSWORD,
    SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
    SQLSTATE.INVALID_CATALOG_NAME,
  ]
  if (sqlState !== undefined && !refused.includes(sqlState)) {
    const mapped = codeForServerError(sqlState, message)
    if (mapped !== 'CONNECTION_FAILED') return new MigrationError(mapped, message, { sqlState, cause: error })
  }
  const where = source === 'db' ? 'the given Kysely instance' : source === 'option' ? 'the url option' : source
  const lost = code?.startsWith('57P') ?? false
  const reason = connectionFailedReason({ where, url: url ? redact(url, secrets) : undefined, reason: message, lost })
  // Always an Error with readable text (PGlite may throw objects), keeping the code (28P01, ECONNREFUSED, …).
  const cause = Object.assign(new Error(message), { name: asError(error).name }, code === undefined ? {} : { code })
  return new MigrationError('CONNECTION_FAILED', reason, { sqlState: lost ? sqlState : undefined, cause })
}
