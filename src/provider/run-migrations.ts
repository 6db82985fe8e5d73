import { sql, type Kysely } from 'kysely'

import {
  applyDown,
  applyUp,
  applyUpBatch,
  type ApplyEvent,
  type ApplyLimits,
  type BatchedFile,
  type RunLedger,
} from './apply-migration.js'
import { ensureLedgersSql, readLedgerSnapshot, type LedgerSnapshot } from './ledger.js'
import type { MigrationFile } from './migration-file.js'
import { planMigrations, planSteps, type MigrationTarget, type PlannedStep } from './migration-plan.js'
import { withLockTimeout } from './with-lock-timeout.js'

/** Options of {@link runMigrations}. */
export interface RunMigrationsOptions {
  readonly target: MigrationTarget
  readonly allowDrift?: boolean | undefined
  /** A migration set's own schema for its ledgers; undefined: the package's, found wherever they are. */
  readonly schema?: string | undefined
  readonly limits?: ApplyLimits | undefined
  /** Called after each file has committed (a batch's files when it returns). */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
  /** Most consecutive transactional files in one round trip (each still its own transaction). */
  readonly maxBatchFiles?: number | undefined
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
  const bounded = <T>(body: (c: Kysely<any>) => Promise<T>): Promise<T> =>
    withLockTimeout(db, options.limits?.lockTimeoutMs, body, { sameConnection: true })
  const snapshot: LedgerSnapshot = await readLedgerSnapshot(db, options.schema, bounded)
  const steps = planSteps(files, planMigrations(files, snapshot, options), options.target)
  const ledger: RunLedger = {
    rows: new Map(snapshot.rows.map((r) => [r.version, r])),
    kysely: new Set(snapshot.kysely.map((k) => k.name)),
    home: snapshot.home,
    restoreSql: snapshot.restoreSql,
  }
  const versions = (): ReadonlySet<number> => new Set(ledger.rows.keys())
  if (steps.length === 0) return Object.freeze({ steps, events: [], versions: versions() })
  if (!snapshot.complete)
    await bounded((c) => sql.raw(ensureLedgersSql(snapshot.home, options.schema !== undefined)).execute(c))

  let lastAt = snapshot.kysely.reduce((max, k) => Math.max(max, new Date(k.timestamp).getTime() || 0), 0)
  // As Kysely's Migrator stamps its rows: now, or 1 ms after the latest if the clock is behind.
  const stamp = (): string => {
    lastAt = Math.max(Date.now(), lastAt + 1)
    return new Date(lastAt).toISOString()
  }
  const events: ApplyEvent[] = []
  const report = (event: ApplyEvent): void => {
    events.push(event)
    options.onApply?.(event)
  }
  const maxBatch = options.maxBatchFiles ?? DEFAULT_MAX_BATCH_FILES
  for (let i = 0; i < steps.length; ) {
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
        const done = await applyUpBatch(db, batch, ledger, options.limits, report)
        i += done
        if (done === batch.length) continue
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
      report(
        step.action === 'revert'
          ? await applyDown(db, file, file.down!, ledger, options.limits)
          : await applyUp(db, file, ledger, options.limits, files, { timestamp: stamp() }),
      )
      i++
    } catch (error) {
      return Object.freeze({ steps, events, failed: step, error, versions: versions() })
    }
  }
  return Object.freeze({ steps, events, versions: versions() })
}

/** Most files in one batch (one round trip). */
export const DEFAULT_MAX_BATCH_FILES = 100

// A batch stops growing past this much SQL text (characters), to bound the query's size.
const MAX_BATCH_BYTES = 4 * 1024 * 1024
