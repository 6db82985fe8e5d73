import { readFileSync } from 'node:fs'

import { connectionFailedReason, connectionFailureKind, errorCode } from '../errors/index.js'
import { MigrationError } from '../errors/migration-error.js'
import { MigrationSqlError, type ServerErrorFields } from '../provider/migration-sql-error.js'
import { MigrationRunError } from '../runner/migration-run-error.js'
import { StillRunningError } from '../runner/still-running-error.js'
import type { DatabaseTarget } from './database-target.js'
import { inFolder } from './format.js'
import { CliError, UsageError } from './cli-error.js'

/** A failure, as `--json` prints it (docs/json-output.md) and as the human report is drawn from. */
export interface CliErrorJson {
  /** A `MigrationErrorCode`, or `USAGE`, `NAME_EXISTS`, `NO_FOLDER`, `TARGET_ABOVE_CURRENT`, `UNEXPECTED`. */
  readonly code: string
  readonly message: string
  readonly file: string | null
  /** 1-based, in `file`; `sourceLine` is that line's text, for a caret display. */
  readonly line: number | null
  readonly column: number | null
  readonly sourceLine: string | null
  /** PostgreSQL's SQLSTATE, detail, hint and context, when the server reported the error. */
  readonly sqlState: string | null
  readonly detail: string | null
  readonly hint: string | null
  readonly where: string | null
  readonly advice: string | null
}

/** One description of any error, so the human report and `--json` cannot disagree; `folder` to read the offending line. */
export function describeError(
  error: unknown,
  context: { readonly folder: string | null; readonly target: DatabaseTarget | null },
): CliErrorJson {
  if (error instanceof UsageError)
    return blank('USAGE', error.message, 'wukong-migrate --help lists the commands and flags')
  if (error instanceof CliError)
    return { ...blank(error.code, error.message, error.advice ?? null), file: error.file ?? null }
  if (errorCode(error) === 'ERR_INVALID_URL' && context.target) {
    // Thrown while the driver is set up, before the runner can wrap it: the URL itself is bad.
    const { source } = context.target
    return blank(
      'CONNECTION_FAILED',
      `cannot connect to the database from ${source}: not a valid URL`,
      `write it as postgres://user:password@host:port/database (percent-encode @ : / in the password); ${urlFix(source)}`,
    )
  }
  if (!(error instanceof MigrationError)) {
    return blank(
      'UNEXPECTED',
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      'this is likely a bug in wukong-migrate; please report it with the command and this message',
    )
  }

  // A failed run wraps the file's own error; the results say whether that file was atomic.
  const failed = error instanceof MigrationRunError ? error.results.find((r) => r.status === 'failed') : undefined
  const inner: MigrationError = error instanceof MigrationRunError ? error.cause : error
  const { file = null, line = null, column = null } = inner

  if (inner.code === 'CONNECTION_FAILED' && context.target && !(inner instanceof MigrationSqlError)) {
    const reason = inner.cause instanceof Error && inner.cause.message ? inner.cause.message : inner.reason
    const { source, url, dataDir } = context.target
    const embedded = source === 'embedded'
    const message = embedded
      ? `cannot open the embedded database in ${dataDir}: ${reason}`
      : connectionFailedReason({ where: source, url, reason, lost: false })
    const fix = embedded ? 'check WUKONG_PGLITE_DIR, or set POSTGRES_URL_NON_POOLING to use a server' : urlFix(source)
    const why = CONNECTION_ADVICE[connectionFailureKind(inner.cause) ?? '']
    return blank('CONNECTION_FAILED', message, why ? `${why} ${fix}` : fix)
  }

  const sql = inner instanceof MigrationSqlError ? inner : undefined
  const server: ServerErrorFields = sql?.server ?? {}
  return {
    code: inner.code,
    message: inner.reason,
    file,
    line,
    column,
    sourceLine: sql?.sourceLine ?? (file !== null && line !== null ? readLine(context.folder, file, line) : null),
    sqlState: inner.sqlState ?? null,
    detail: server.detail ?? null,
    hint: server.hint ?? null,
    where: server.where ?? null,
    advice: advice(inner, failed?.atomic ?? true),
  }
}

const NOT_KNOWN = {
  file: null,
  line: null,
  column: null,
  sourceLine: null,
  sqlState: null,
  detail: null,
  hint: null,
  where: null,
}

function blank(code: string, message: string, advice: string | null): CliErrorJson {
  return { code, message, ...NOT_KNOWN, advice }
}

function readLine(folder: string | null, file: string, line: number): string | null {
  try {
    // As the provider reads it: no BOM, LF line endings, so columns agree with its positions.
    const text = readFileSync(inFolder(folder, file), 'utf8').replace(/^\uFEFF/, '')
    return text.split(/\r\n|\r|\n/)[line - 1] ?? null
  } catch {
    return null
  }
}

function urlFix(source: string): string {
  return source === '--url' ? 'check the URL given to --url' : `check ${source}, or pass --url`
}

const CONNECTION_ADVICE: Readonly<Record<string, string>> = {
  credentials: 'the server refused the user or password;',
  refused: 'nothing accepts connections at that host and port: is the server running?',
  'unknown-host': 'the host name does not resolve;',
  'no-database': 'the server has no such database: create it, or',
  'no-role': 'the server has no such login role;',
  timeout: 'the server did not answer in time: is the host reachable from here?',
}

function advice(error: MigrationError, atomic: boolean): string | null {
  const { code, file, line } = error
  const named = file ?? 'the file'
  switch (code) {
    case 'MIGRATION_FAILED':
    case 'PERMISSION_DENIED':
    case 'MISSING_EXTENSION':
    case 'STATEMENT_TIMEOUT':
    case 'LOCK_TIMEOUT': {
      const outcome = atomic
        ? `nothing of ${named} was applied (its statements and its schema_versions row roll back together)`
        : `${named} is not atomic (-- wukong:no-transaction): statements before ${line ? `line ${line}` : 'the failing one'} may have run, so keep them idempotent (IF NOT EXISTS)`
      const cure =
        code === 'LOCK_TIMEOUT'
          ? 'another session held a lock this file needs; run again when the table is quiet, or raise --lock-timeout'
          : code === 'STATEMENT_TIMEOUT'
            ? 'a statement ran longer than --statement-timeout; raise it for this run'
            : code === 'PERMISSION_DENIED'
              ? 'migrate as a role that owns the schema'
              : code === 'MISSING_EXTENSION'
                ? "install the extension on the server (pgvector: apt install postgresql-15-pgvector, or your provider's setting)"
                : 'fix the file and run migrate again'
      return `${outcome}; ${cure}`
    }
    case 'CONNECTION_FAILED':
      return file === undefined
        ? null
        : `the connection was lost while ${named} ran; ${atomic ? `nothing of ${named} was applied (its statements and its schema_versions row roll back together)` : `${named} is not atomic: statements before the failing one may have run`}; files listed as applied are committed; run migrate again once the database is reachable`
    case 'INTERRUPTED':
      return file === undefined
        ? `files listed as applied are committed; ${error instanceof StillRunningError ? `a statement that ignores the cancel runs on: wait for it (pg_stat_activity shows it) or end it with pg_terminate_backend(${error.backendPid ?? 'pid'}), then run` : 'run'} the command again to continue`
        : `${atomic ? `nothing of ${named} was applied` : `${named} is not atomic: its statements before ${line ? `line ${line}` : 'the canceled one'} committed, so keep them idempotent (IF NOT EXISTS)`}; files listed as applied are committed; run migrate again to continue`
    case 'OUT_OF_ORDER':
      return `renumber ${named} above the last applied version (wukong-migrate create <name> gives the next number; move the SQL there), or revert the later files with down --to`
    case 'READ_ONLY_DATABASE':
      return 'the database refuses writes (a read replica or standby, or default_transaction_read_only = on): point --url or POSTGRES_URL_NON_POOLING at the primary'
    case 'INVALID_INDEX':
      return 'a concurrent index build did not finish; run the repair SQL in the message (or just migrate again: an invalid index of the same name is dropped and rebuilt first)'
    case 'UNSUPPORTED_STATEMENT':
      return 'nothing ran: every file is checked before any database is touched'
    case 'BOOKKEEPING_FAILED':
      return `${named} is applied and will not run again; run migrate again: it recreates Kysely's tables if they are gone and records the applied files there without running them`
    case 'LEDGER_WRITE':
      return "nothing ran: the ledgers are the migration tool's; to record or forget a version, migrate or down it"
    case 'MIGRATION_LOCK_RELEASE':
      return 'nothing ran: a migration file must not release advisory locks; delete the statement'
    case 'LIMIT_OVERRIDE':
      return 'nothing ran: set the limits for the whole run with --lock-timeout / --statement-timeout, or let the file set its own with "-- wukong:own-timeouts" at its top'
    case 'CHECKSUM_MISMATCH':
      return 'applied files are immutable: restore the file as it was applied (git log -p -- <file>) and put the change in a new file (wukong-migrate create <name>); --allow-drift migrates anyway'
    case 'MISSING_MIGRATION_FILE':
      return 'restore the file from version control, or point --dir at the folder this database was migrated from; --allow-drift migrates anyway'
    case 'NO_DATABASE_URL':
      return 'set DATABASE_URL (or POSTGRES_URL_NON_POOLING) in the environment or in .env, or pass --url; --embedded uses the embedded database on purpose'
    case 'ADOPTION_MISMATCH':
      return `nothing was counted as applied for ${named}: wukong-migrate diff shows what the database has; create what is missing by hand (or restore it), or give the folder this database was really migrated from`
    case 'SHADOW_NOT_EMPTY':
      return 'give --shadow-url an empty database made for this (everything in it is dropped afterwards)'
    case 'SHADOW_FAILED':
      return 'give an empty database to build the expected schema in with --shadow-url'
    case 'FOLDER_NOT_FOUND':
      return 'pass --dir <folder> with the migration files'
    case 'EMPTY_MIGRATION':
      return "write the migration's SQL in the file (a file from `create` holds only comments until you do)"
    case 'EMBEDDED_DATABASE_BUSY':
      return 'the embedded database (PGlite) serves one process at a time: stop the other process or wait for it, raise --busy-timeout (WUKONG_PGLITE_BUSY_TIMEOUT_MS) to wait longer, or use a server (POSTGRES_URL_NON_POOLING)'
    case 'SQL_SYNTAX_ERROR':
      return 'nothing ran: every file is parsed before any database is touched'
    default:
      return null
  }
}
