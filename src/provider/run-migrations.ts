import { sql, type Kysely } from 'kysely'

import {
  applyDown,
  applyUp,
  applyUpBatch,
  type ApplyEvent,
  type BatchedFile,
  type RunLedger,
} from './apply-migration.js'
import { MigrationError } from '../errors/migration-error.js'
import { ensureLedgersSql, readLedgerSnapshot, type LedgerSnapshot } from './ledger.js'
import type { MigrationFile } from './migration-file.js'
import { planMigrations, planSteps, type MigrationTarget, type PlannedStep } from './migration-plan.js'
import { withLockTimeout } from './with-lock-timeout.js'
import type { StatementTimeouts } from './migration-timeouts.js'

/** Options of {@link runMigrations}. */
export interface RunMigrationsOptions {
  readonly target: MigrationTarget
  readonly allowDrift?: boolean | undefined
  /** A migration set's own schema for its ledgers; undefined: the package's, found wherever they are. */
  readonly schema?: string | undefined
  readonly timeouts: StatementTimeouts
  /** Called after each file has committed (a batch's files when it returns). */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
  /** Most consecutive transactional files in one round trip (each still its own transaction). */
  readonly maxBatchFiles?: number | undefined
  /** Once aborted, no further file starts: the step it stops at fails with `INTERRUPTED`. */
  readonly signal?: AbortSignal | undefined
  /** Kept current for a watcher: the run's server process and the file(s) in flight. */
  readonly session?: RunSession | undefined
  /** Wraps each of the tool's own queries (not a file's statements), e.g. to bound its wait for an answer. */
  readonly ownQuery?: (<T>(query: Promise<T>) => Promise<T>) | undefined
}

/** What a run is doing, written by {@link runMigrations} as it goes (read by whoever may cancel it). */
export interface RunSession {
  backendPid?: number | undefined
  /** The file names in flight (a batch's, or one), empty between round trips. */
  running: readonly string[]
}

/** What {@link runMigrations} did. */
export interface RunOutcome {
  /** Every file the run had to handle, in order. */
  readonly steps: readonly PlannedStep<MigrationFile>[]
  /** One event per file that committed, in order. */
  readonly events: readonly ApplyEvent[]
  /** The step that failed (the ones after it were not run), with its error. */
  readonly failed?: PlannedStep<MigrationFile> | undefined
  readonly error?: unknown
  /** The versions `schema_versions` holds afterwards, as far as this run knows. */
  readonly versions: ReadonlySet<number>
}

/**
 * The one apply engine, for ups and downs alike: reads both ledgers on `db` (one connection
 * under the migration lock), asks the planner what to do (throwing its refusal before anything
 * is written), creates missing bookkeeping, then handles each step with its SQL, both ledgers'
 * rows and the integrity check in one transaction. Consecutive new transactional files go in
 * batches: one round trip, one commit per file. An error in a file is returned with the steps
 * before it; refusals are thrown.
 */
export async function runMigrations(
  db: Kysely<any>,
  files: readonly MigrationFile[],
  options: RunMigrationsOptions,
): Promise<RunOutcome> {
  // The tool's own reads and writes of the ledgers wait for a table lock no longer than a file may.
  const own = options.ownQuery ?? ((query) => query)
  const bounded = <T>(body: (c: Kysely<any>) => Promise<T>): Promise<T> =>
    own(withLockTimeout(db, options.timeouts.lockMs, body, { sameConnection: true }))
  const snapshot: LedgerSnapshot = await own(readLedgerSnapshot(db, options.schema, bounded))
  const session = options.session
  if (session) session.backendPid = snapshot.backendPid
  const steps = planSteps(files, planMigrations(files, snapshot, options), options.target)
  const ledger: RunLedger = {
    rows: new Map(snapshot.rows.map((r) => [r.version, r])),
    kysely: new Set(snapshot.kysely.map((k) => k.name)),
    home: snapshot.home,
    restoreSql: snapshot.restoreSql,
  }
  const versions = (): ReadonlySet<number> => new Set(ledger.rows.keys())
  if (steps.length === 0) return Object.freeze({ steps, events: [], versions: versions() })
  const events: ApplyEvent[] = []
  const interrupted = (step: PlannedStep<MigrationFile>): RunOutcome =>
    Object.freeze({ steps, events, failed: step, error: interruption(step), versions: versions() })
  if (options.signal?.aborted) return interrupted(steps[0]!)
  if (!snapshot.complete)
    await bounded((c) => sql.raw(ensureLedgersSql(snapshot.home, options.schema !== undefined)).execute(c))

  let lastAt = snapshot.kysely.reduce((max, k) => Math.max(max, new Date(k.timestamp).getTime() || 0), 0)
  // As Kysely's Migrator stamps its rows: now, or 1 ms after the latest if the clock is behind.
  const stamp = (): string => {
    lastAt = Math.max(Date.now(), lastAt + 1)
    return new Date(lastAt).toISOString()
  }
  const report = (event: ApplyEvent): void => {
    events.push(event)
    options.onApply?.(event)
  }
  const maxBatch = options.maxBatchFiles ?? DEFAULT_MAX_BATCH_FILES
  const running = async <T>(names: readonly string[], body: Promise<T>): Promise<T> => {
    if (session) session.running = names
    try {
      return await body
    } finally {
      if (session) session.running = []
    }
  }
  for (let i = 0; i < steps.length; ) {
    if (options.signal?.aborted) return interrupted(steps[i]!)
    const batch: BatchedFile[] = []
    let bytes = 0
    for (let j = i; j < steps.length && batch.length < maxBatch && bytes < MAX_BATCH_BYTES; j++) {
      const { file, action } = steps[j]!
      if (action !== 'apply' || !file.sql.transactional) break
      batch.push({ file, kysely: { timestamp: stamp() } })
      bytes += file.text.length
    }
    if (batch.length > 1) {
      try {
        const names = batch.map((b) => b.file.fileName)
        const done = await running(names, applyUpBatch(db, batch, ledger, options.timeouts, report))
        i += done
        if (done === batch.length) continue
        // Aborted: the file it stopped at was canceled, not worth running again on its own.
        if (options.signal?.aborted)
          return Object.freeze({
            steps,
            events,
            failed: steps[i],
            error: interruption(steps[i]!, true),
            versions: versions(),
          })
      } catch (error) {
        // Could not even learn what committed (the connection is gone): stop here.
        return Object.freeze({ steps, events, failed: steps[i], error, versions: versions() })
      }
    }
    // One step on its own: not batchable, or the file a batch stopped at (run again on its own,
    // its transaction having rolled back, to report its error with line:column).
    const step = steps[i]!
    try {
      const { file } = step
      const sqlFile = step.action === 'revert' ? file.down! : file
      report(
        await running(
          [sqlFile.fileName],
          step.action === 'revert'
            ? applyDown(db, file, file.down!, ledger, options.timeouts)
            : applyUp(db, file, ledger, options.timeouts, files, { timestamp: stamp() }),
        ),
      )
      i++
    } catch (error) {
      return Object.freeze({ steps, events, failed: step, error, versions: versions() })
    }
  }
  return Object.freeze({ steps, events, versions: versions() })
}

function interruption(step: PlannedStep<MigrationFile>, canceled = false): MigrationError {
  const { fileName } = step.action === 'revert' ? step.file.down! : step.file
  return canceled
    ? new MigrationError(
        'INTERRUPTED',
        `interrupted: ${fileName} was canceled on the server; its transaction rolled back, nothing of it was applied`,
        { file: fileName },
      )
    : new MigrationError('INTERRUPTED', `interrupted before ${fileName} started`)
}

/** Most files in one batch (one round trip). */
export const DEFAULT_MAX_BATCH_FILES = 100

// A batch stops growing past this much SQL text (characters), to bound the query's size.
const MAX_BATCH_BYTES = 4 * 1024 * 1024
