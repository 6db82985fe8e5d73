import { sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_TABLE } from 'kysely/migration'

import {
  applyUp,
  applyUpBatch,
  type ApplyEvent,
  type ApplyLimits,
  type BatchedFile,
  type RunLedger,
} from './apply-migration.js'
import { assertNoDrift, findDrift } from './check-drift.js'
import { assertInOrder } from './check-order.js'
import { toLedgerRow, type LedgerRow } from './ledger.js'
import type { MigrationFile } from './migration-file.js'
import { readSessionBaseline } from './session-baseline.js'
import { withLockTimeout } from './with-lock-timeout.js'
import { MigrationError } from '../errors/migration-error.js'

/** Options of {@link applyPendingFiles}. */
export interface ApplyPendingOptions {
  readonly allowDrift?: boolean
  readonly limits?: ApplyLimits
  /**
   * Called after each file has committed (files applied in one batch are reported when the
   * batch returns, each with an equal share of its time).
   */
  readonly onApply?: (event: ApplyEvent) => void
  /**
   * Most consecutive transactional files sent in one round trip (each still committed on its
   * own); 1 sends every file on its own. Default {@link DEFAULT_MAX_BATCH_FILES}.
   */
  readonly maxBatchFiles?: number
}

/** What {@link applyPendingFiles} did: the files it had to handle, and how far it got. */
export interface ApplyPendingOutcome {
  /** Every file Kysely had not recorded, in the order they were (to be) applied. */
  readonly pending: readonly MigrationFile[]
  /** One event per file that committed, in order. */
  readonly events: readonly ApplyEvent[]
  /** The file that failed, if one did (the files after it were not run). */
  readonly failed?: MigrationFile
  readonly error?: unknown
  /** The versions `schema_versions` holds afterwards (as far as this run knows). */
  readonly versions: ReadonlySet<number>
}

/**
 * Applies every file Kysely's `kysely_migration` does not record yet, as Kysely's Migrator
 * would (same order, same checks, same rows), but with each file's SQL, its `schema_versions`
 * row and its `kysely_migration` row committed together, and consecutive transactional files
 * sent in batches (one round trip for many files, each file still its own transaction). Files the
 * ledger already has are adopted or healed (their SQL is not run). The caller holds the
 * migration lock on `db` (one session, or a transaction). One query reads both ledgers first.
 * Errors that stop the run before any file (drift, a recorded file gone, a new file sorting
 * before an applied one: `OUT_OF_ORDER`) are thrown; an error in a file is returned with the
 * files before it. Each file starts from the session state the run started in, and the
 * ledgers are named with their schemas (see `readSessionBaseline`).
 *
 * @example
 * ```ts
 * const adapter = db.getExecutor().adapter
 * const lockOptions = { lockTable: 'kysely_migration_lock', lockRowId: 'migration_lock' }
 * const outcome = await db.connection().execute(async (conn) => {
 *   await adapter.acquireMigrationLock(conn, lockOptions)
 *   try { return await applyPendingFiles(conn, files) } finally { await adapter.releaseMigrationLock(conn, lockOptions) }
 * })
 * ```
 */
export async function applyPendingFiles(
  db: Kysely<any>,
  files: readonly MigrationFile[],
  options: ApplyPendingOptions = {},
): Promise<ApplyPendingOutcome> {
  // Both ledgers in one query, under the run's lock timeout: another session holding one of
  // them fails the run with LOCK_TIMEOUT naming it instead of hanging it.
  const read = (conn: Kysely<unknown>) =>
    sql<{ row: Record<string, unknown> | null; name: string | null; timestamp: string | null }>`
      select to_jsonb(s) as row, null::text as name, null::text as timestamp from schema_versions s
      union all
      select null, name, timestamp from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(conn)
  const { rows } = await withLockTimeout(db, options.limits?.lockTimeoutMs, read, { sameConnection: true })
  const ledgerRows: LedgerRow[] = []
  const executed: { name: string; at: number }[] = []
  for (const r of rows) {
    if (r.row) {
      ledgerRows.push(toLedgerRow(r.row))
    } else {
      const at = new Date(r.timestamp ?? '').getTime()
      if (Number.isNaN(at)) {
        throw new MigrationError(
          'MIGRATION_FAILED',
          `kysely_migration records ${r.name} with an invalid timestamp ${r.timestamp}`,
        )
      }
      executed.push({ name: r.name!, at })
    }
  }
  if (!options.allowDrift) assertNoDrift(findDrift(files, ledgerRows))
  assertInOrder(files, ledgerRows)
  // The state every file starts from (and is brought back to), and where the ledgers live.
  const session = await readSessionBaseline(db)
  const ledger: RunLedger = { rows: new Map(ledgerRows.map((row) => [row.version, row])), session }

  // Kysely's Migrator's own checks, so that what it would refuse is refused here too.
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  executed.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name))
  const names = new Set(sorted.map((f) => f.name))
  for (const { name } of executed) {
    if (!names.has(name)) {
      throw new MigrationError(
        'MISSING_MIGRATION_FILE',
        `kysely_migration records ${name}, which no file has; restore the file or point at the right folder`,
      )
    }
  }
  executed.forEach(({ name }, i) => {
    if (sorted[i]!.name !== name) {
      throw new MigrationError(
        'OUT_OF_ORDER',
        `kysely_migration records ${name} as executed at index ${i}, but ${sorted[i]!.name} sorts there ` +
          '(a file numbered below an applied one would never run; renumber it above the last applied version)',
        { file: sorted[i]!.fileName },
      )
    }
  })

  const recorded = new Set(executed.map((e) => e.name))
  const pending = sorted.filter((f) => !recorded.has(f.name))
  let lastAt = executed.reduce((max, e) => Math.max(max, e.at), 0)
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
  for (let i = 0; i < pending.length; ) {
    // Consecutive new transactional files go in batches: one round trip, one commit per file.
    const batch: BatchedFile[] = []
    let bytes = 0
    for (
      let j = i;
      !db.isTransaction && j < pending.length && batch.length < maxBatch && bytes < MAX_BATCH_BYTES;
      j++
    ) {
      const file = pending[j]!
      if (!file.sql.transactional || ledger.rows.has(file.version)) break
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
        return Object.freeze({ pending, events, failed: pending[i], error, versions: new Set(ledger.rows.keys()) })
      }
    }
    // One file on its own: not batchable, or the file a batch stopped at (run again on its own,
    // its transaction having rolled back, to report its error with line:column).
    const file = pending[i]!
    try {
      report(await applyUp(db, file, ledger, options.limits, files, { timestamp: stamp() }))
      i++
    } catch (error) {
      return Object.freeze({ pending, events, failed: file, error, versions: new Set(ledger.rows.keys()) })
    }
  }
  return Object.freeze({ pending, events, versions: new Set(ledger.rows.keys()) })
}

/** Most files in one batch (one round trip); see {@link ApplyPendingOptions.maxBatchFiles}. */
export const DEFAULT_MAX_BATCH_FILES = 100

// A batch stops growing past this much SQL text (characters), to bound the query's size.
const MAX_BATCH_BYTES = 4 * 1024 * 1024
