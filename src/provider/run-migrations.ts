import { sql, type Kysely } from 'kysely'

import { applyDown, applyUp, applyUpBatch, type ApplyEvent, type BatchedFile } from './apply-migration.js'
import { MigrationError } from '../errors/migration-error.js'
import { ensureLedgersSql, readLedgerSnapshot, runLedger, type LedgerSnapshot } from './ledger.js'
import type { MigrationFile, MigrationFileHead } from './migration-file.js'
import { planMigrations, planSteps, type MigrationTarget, type PlannedStep } from './migration-plan.js'
import type { StatementTimeouts } from './migration-timeouts.js'
import { withLockTimeout } from './with-lock-timeout.js'

type Own = <T>(query: Promise<T>) => Promise<T>

interface RunMigrationsOptions {
  readonly target: MigrationTarget
  /** Parses the files the plan runs (the provider's memo): an applied, unchanged file is never parsed. */
  readonly parse: (heads: readonly MigrationFileHead[]) => Promise<readonly MigrationFile[]>
  readonly allowDrift?: boolean | undefined
  // A migration set's own schema; undefined: the package's ledgers, wherever they are.
  readonly schema?: string | undefined
  readonly timeouts: StatementTimeouts
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
  readonly maxBatchFiles?: number | undefined
  // Once aborted, no further file starts.
  readonly signal?: AbortSignal | undefined
  readonly session?: RunSession | undefined
  // Wraps the tool's own queries (not a file's statements), e.g. to bound the wait for an answer.
  readonly ownQuery?: Own | undefined
}

// Written as the run goes, for whoever may cancel it: its server process and the files in flight.
export interface RunSession {
  backendPid?: number | undefined
  running: readonly string[]
}

export interface RunOutcome {
  readonly steps: readonly PlannedStep<MigrationFile>[]
  // One per file that committed, in order.
  readonly events: readonly ApplyEvent[]
  // The steps after it were not run.
  readonly failed?: PlannedStep<MigrationFile> | undefined
  readonly error?: unknown
  // What schema_versions holds afterwards, as far as this run knows.
  readonly versions: ReadonlySet<number>
}

// Both ledgers read on the locked connection, the tool's own queries under lockMs; `ensure` creates what is missing.
export async function readForRun(
  db: Kysely<any>,
  schema: string | undefined,
  lockMs: number,
  own: Own = (query) => query,
): Promise<{ readonly snapshot: LedgerSnapshot; readonly ensure: () => Promise<unknown> }> {
  const bounded = <T>(body: (c: Kysely<any>) => Promise<T>): Promise<T> =>
    own(withLockTimeout(db, lockMs, body, { sameConnection: true }))
  const snapshot = await own(readLedgerSnapshot(db, schema, bounded))
  const ensureSql = ensureLedgersSql(snapshot.home, schema !== undefined)
  const ensure = async () => snapshot.complete || bounded((c) => sql.raw(ensureSql).execute(c))
  return { snapshot, ensure }
}

// The one apply engine, ups and downs alike: refusals are thrown, a file's error is returned with the steps before it.
export async function runMigrations(
  db: Kysely<any>,
  heads: readonly MigrationFileHead[],
  options: RunMigrationsOptions,
): Promise<RunOutcome> {
  const { snapshot, ensure } = await readForRun(db, options.schema, options.timeouts.lockMs, options.ownQuery)
  const session = options.session
  if (session) session.backendPid = snapshot.backendPid
  const planned = planSteps(heads, planMigrations(heads, snapshot, options), options.target)
  // Adopting a file checks the schema against what later files expect, so only then are they all parsed.
  const adopting = planned.some((s) => s.action === 'adopt')
  const files = planned.length ? await options.parse(adopting ? heads : planned.map((s) => s.file)) : []
  const parsed = new Map(files.map((f) => [f.version, f]))
  const steps = planned.map((s): PlannedStep<MigrationFile> => ({ ...s, file: parsed.get(s.file.version)! }))
  const ledger = runLedger(snapshot, true)
  const events: ApplyEvent[] = []
  const end = (failed?: PlannedStep<MigrationFile>, error?: unknown): RunOutcome =>
    Object.freeze({ steps, events, failed, error, versions: new Set(ledger.rows.keys()) })
  if (steps.length === 0) return end()
  if (options.signal?.aborted) return end(steps[0], interruption(steps[0]!))
  await ensure()

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
  const running = async <T>(names: readonly string[], body: Promise<T>): Promise<T> => {
    if (session) session.running = names
    try {
      return await body
    } finally {
      if (session) session.running = []
    }
  }
  const maxBatch = options.maxBatchFiles ?? DEFAULT_MAX_BATCH_FILES
  for (let i = 0; i < steps.length; ) {
    if (options.signal?.aborted) return end(steps[i], interruption(steps[i]!))
    const batch: BatchedFile[] = []
    let bytes = 0
    for (let j = i; j < steps.length && batch.length < maxBatch && bytes < MAX_BATCH_BYTES; j++) {
      const { file, action } = steps[j]!
      if (action !== 'apply' || !file.sql.transactional) break
      batch.push({ file, timestamp: stamp() })
      bytes += file.text.length
    }
    if (batch.length > 1) {
      try {
        const names = batch.map((b) => b.file.fileName)
        const done = await running(names, applyUpBatch(db, batch, ledger, options.timeouts, report))
        i += done
        if (done === batch.length) continue
        // Aborted: the file it stopped at was canceled, not worth running again on its own.
        if (options.signal?.aborted) return end(steps[i], interruption(steps[i]!, true))
      } catch (error) {
        return end(steps[i], error) // could not even learn what committed: the connection is gone
      }
    }
    // Not batchable, or the file a batch stopped at: run again on its own to report its error with line:column.
    const step = steps[i]!
    const { file } = step
    try {
      const revert = step.action === 'revert'
      const applying = revert
        ? applyDown(db, file, ledger, options.timeouts)
        : applyUp(db, file, ledger, options.timeouts, files, stamp())
      report(await running([(revert ? file.down! : file).fileName], applying))
      i++
    } catch (error) {
      return end(step, error)
    }
  }
  return end()
}

function interruption(step: PlannedStep<MigrationFile>, canceled = false): MigrationError {
  const { fileName } = step.action === 'revert' ? step.file.down! : step.file
  if (!canceled) return new MigrationError('INTERRUPTED', `interrupted before ${fileName} started`)
  const rolledBack = 'its transaction rolled back, nothing of it was applied'
  const reason = `interrupted: ${fileName} was canceled on the server; ${rolledBack}`
  return new MigrationError('INTERRUPTED', reason, { file: fileName })
}

/** Most files in one batch (one round trip). */
export const DEFAULT_MAX_BATCH_FILES = 100

// A batch stops growing past this much SQL text (characters), to bound the query's size.
const MAX_BATCH_BYTES = 4 * 1024 * 1024
