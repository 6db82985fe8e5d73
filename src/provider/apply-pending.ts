import { sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_TABLE } from 'kysely/migration'

import { applyUp, applyUpBatch, type ApplyEvent, type ApplyLimits, type BatchedFile, type RunLedger } from './apply-migration.js'
import { assertNoDrift, findDrift } from './check-drift.js'
import { toLedgerRow } from './ledger.js'
import type { MigrationFile } from './migration-file.js'

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
 * before a recorded one) are thrown; an error in a file is returned with the files before it.
 *
 * @example
 * ```ts
 * const outcome = await db.connection().execute(async (conn) => {
 *   await adapter.acquireMigrationLock(conn, lockOptions)
 *   try { return await applyPendingFiles(conn, files) } finally { await adapter.releaseMigrationLock(conn, lockOptions) }
 * })
 * ```
 */
export async function applyPendingFiles(
  db: Kysely<unknown>,
  files: readonly MigrationFile[],
  options: ApplyPendingOptions = {},
): Promise<ApplyPendingOutcome> {
  const { rows } = await sql<{ row: Record<string, unknown> | null; name: string | null; timestamp: string | null }>`
    select to_jsonb(s) as row, null::text as name, null::text as timestamp from schema_versions s
    union all
    select null, name, timestamp from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db)
  const ledger: RunLedger = new Map()
  const executed: { name: string; at: number }[] = []
  for (const r of rows) {
    if (r.row) {
      const row = toLedgerRow(r.row)
      ledger.set(row.version, row)
    } else {
      const at = new Date(r.timestamp ?? '').getTime()
      if (Number.isNaN(at)) {
        throw new Error(`corrupted migrations: previously executed migration ${r.name} has an invalid timestamp ${r.timestamp}`)
      }
      executed.push({ name: r.name!, at })
    }
  }
  if (!options.allowDrift) assertNoDrift(findDrift(files, [...ledger.values()]))

  // Kysely's Migrator's own checks, so that what it would refuse is refused here too.
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  executed.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name))
  const names = new Set(sorted.map((f) => f.name))
  for (const { name } of executed) {
    if (!names.has(name)) throw new Error(`corrupted migrations: previously executed migration ${name} is missing`)
  }
  executed.forEach(({ name }, i) => {
    if (sorted[i]!.name !== name) {
      throw new Error(
        `corrupted migrations: expected previously executed migration ${name} to be at index ${i} but ${sorted[i]!.name} was found in its place. New migrations must always have a name that comes alphabetically after the last executed migration.`,
      )
    }
  })

  const recorded = new Set(executed.map((e) => e.name))
  const pending = sorted.filter((f) => !recorded.has(f.name))
  let lastAt = executed.reduce((max, e) => Math.max(max, e.at), 0)
  // As Kysely's Migrator stamps its rows: now, or 1 ms after the latest if the clock is behind.
  const stamp = (): string => new Date((lastAt = Math.max(Date.now(), lastAt + 1))).toISOString()
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
    for (let j = i; !db.isTransaction && j < pending.length && batch.length < maxBatch && bytes < MAX_BATCH_BYTES; j++) {
      const file = pending[j]!
      if (!file.sql.transactional || ledger.has(file.version)) break
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
        return Object.freeze({ pending, events, failed: pending[i], error, versions: new Set(ledger.keys()) })
      }
    }
    // One file on its own: not batchable, or the file a batch stopped at (run again on its own,
    // its transaction having rolled back, to report its error with line:column).
    const file = pending[i]!
    try {
      report(await applyUp(db, file, ledger, options.limits, { timestamp: stamp() }))
      i++
    } catch (error) {
      return Object.freeze({ pending, events, failed: file, error, versions: new Set(ledger.keys()) })
    }
  }
  return Object.freeze({ pending, events, versions: new Set(ledger.keys()) })
}

/** Most files in one batch (one round trip); see {@link ApplyPendingOptions.maxBatchFiles}. */
export const DEFAULT_MAX_BATCH_FILES = 100

// A batch stops growing past this much SQL text (characters), to bound the query's size.
const MAX_BATCH_BYTES = 4 * 1024 * 1024
