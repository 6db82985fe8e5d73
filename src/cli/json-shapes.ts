import type { AppliedMigration, MigrationStatus } from '../provider/index.js'
import type { MigrationFileResult } from '../runner/migration-runner.js'
import type { DatabaseTarget } from './database-target.js'
import type { ExitCode } from './exit-codes.js'

/**
 * What every `--json` document has. `version` changes only when a field is removed or changes
 * meaning; new fields may appear in version 1. Documented in docs/json-output.md.
 */
export interface CliJsonEnvelope {
  readonly version: 1
  readonly command: string
  readonly ok: boolean
  readonly exitCode: ExitCode
  /** The database used (password redacted); null for commands that use none. */
  readonly database: DatabaseTarget | null
  /** The migration folder, absolute; null when none was involved (help, usage errors). */
  readonly folder: string | null
  readonly error: CliErrorJson | null
}

/** A failure, as `--json` prints it and as the human report is drawn from. */
export interface CliErrorJson {
  /** A `MigrationErrorCode`, or `USAGE`, `NAME_EXISTS`, `NO_FOLDER`, `TARGET_ABOVE_CURRENT`, `UNEXPECTED`. */
  readonly code: string
  readonly message: string
  /** The migration file's name, when the problem is in one. */
  readonly file: string | null
  /** 1-based line and column in `file`. */
  readonly line: number | null
  readonly column: number | null
  /** The text of `line`, for a caret display. */
  readonly sourceLine: string | null
  /** PostgreSQL's SQLSTATE, detail, hint and context, when the server reported the error. */
  readonly sqlState: string | null
  readonly detail: string | null
  readonly hint: string | null
  readonly where: string | null
  /** What to do about it, in a sentence. */
  readonly advice: string | null
}

/** One file's outcome in `migrate` / `down` (the runner's `MigrationFileResult`). */
export interface FileResultJson {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly status: MigrationFileResult['status']
  readonly durationMs: number | null
  readonly atomic: boolean
}

/** `migrate`, `up` and `down`. */
export interface RunJson extends CliJsonEnvelope {
  readonly results: readonly FileResultJson[]
  /** Counts of `results` by status (every status present, zeros included). */
  readonly summary: Readonly<Record<MigrationFileResult['status'], number>>
  /** The highest applied version after the run; null when none is, or after a failure. */
  readonly currentVersion: number | null
  readonly durationMs: number
}

/** `status`: the runner's `MigrationStatus`, dates as ISO strings. */
export interface StatusJson extends CliJsonEnvelope {
  readonly currentVersion: number | null
  readonly isUpToDate: boolean
  readonly applied: readonly AppliedJson[]
  readonly pending: MigrationStatus['pending']
  readonly drifted: MigrationStatus['drifted']
  readonly missing: MigrationStatus['missing']
  readonly renamed: MigrationStatus['renamed']
  readonly outOfOrder: MigrationStatus['outOfOrder']
  readonly ledgerSchema: string | null
  readonly otherSets: MigrationStatus['otherSets']
  readonly adopted: readonly AppliedJson[]
}

/** An applied file in `status`. */
export type AppliedJson = Omit<AppliedMigration, 'appliedAt'> & { readonly appliedAt: string | null }

/** `plan`. When migrate would refuse (drift without --allow-drift), `ok` is false and `error` says why. */
export interface PlanJson extends CliJsonEnvelope {
  readonly currentVersion: number | null
  /** The files migrate would run, in order, with their statements. */
  readonly pending: readonly PlannedFileJson[]
  /** Applied files whose bookkeeping migrate would complete without running SQL. */
  readonly bookkeeping: readonly {
    readonly version: number
    readonly fileName: string
    readonly action: 'adopt' | 'heal'
  }[]
  readonly drifted: MigrationStatus['drifted']
  readonly missing: MigrationStatus['missing']
}

/** A pending file in `plan`. */
export interface PlannedFileJson {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly atomic: boolean
  readonly statements: readonly {
    readonly line: number
    readonly column: number
    readonly kind: string
    readonly text: string
  }[]
}

/** An applied migration for JSON: the date as an ISO string. */
export function appliedJson(applied: AppliedMigration): AppliedJson {
  return { ...applied, appliedAt: applied.appliedAt ? new Date(applied.appliedAt).toISOString() : null }
}

/** A run's results for JSON, with their counts by status. */
export function runResultsJson(results: readonly MigrationFileResult[]): Pick<RunJson, 'results' | 'summary'> {
  const summary: Record<MigrationFileResult['status'], number> = {
    applied: 0,
    adopted: 0,
    healed: 0,
    reverted: 0,
    failed: 0,
    'not-run': 0,
  }
  for (const r of results) summary[r.status]++
  return {
    results: results.map((r) => ({
      version: r.version,
      name: r.name,
      fileName: r.fileName,
      status: r.status,
      durationMs: r.durationMs === undefined ? null : Math.round(r.durationMs * 10) / 10,
      atomic: r.atomic,
    })),
    summary,
  }
}
