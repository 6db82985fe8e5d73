import { MigrationError } from '../errors/migration-error.js'

/** What happened to one file in a run. */
export type MigrationFileStatus = 'applied' | 'adopted' | 'healed' | 'reverted' | 'failed' | 'not-run'

/** One file's outcome, true to what is committed. */
export interface MigrationFileResult {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly status: MigrationFileStatus
  /** Wall time of the file, when it ran. */
  readonly durationMs?: number | undefined
  /** False for a `-- wukong:no-transaction` file. */
  readonly atomic: boolean
}

/** The outcome of `migrate()`, `down()` or `migrateTo()`. */
export interface MigrateResult {
  /** One entry per file the run had to handle (empty when the database was up to date). */
  readonly results: readonly MigrationFileResult[]
  readonly currentVersion: number | null
}

/**
 * A failed run: the underlying {@link MigrationError} (file, line:column, PostgreSQL's code)
 * as `cause`, and every file's outcome in `results`.
 */
export class MigrationRunError extends MigrationError {
  override readonly name: string = 'MigrationRunError'
  readonly results: readonly MigrationFileResult[]
  override readonly cause: MigrationError

  constructor(cause: MigrationError, results: readonly MigrationFileResult[]) {
    const { file, line, column, sqlState } = cause
    super(cause.code, cause.reason, { file, line, column, sqlState, cause })
    this.cause = cause
    this.results = results
  }
}
