import { sql, type Kysely } from 'kysely'

import { findDrift, type DriftedMigration, type MissingMigration } from './check-drift.js'
import { readLedgerRows, type LedgerRow } from './ledger.js'
import type { MigrationFile, MigrationFileHead } from './migration-file.js'
import { SQLSTATE } from '../errors/sql-state.js'

/** A file the ledger records as applied. */
export interface AppliedMigration {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly description: string
  readonly appliedAt: Date | null
  /** False when the file changed since it was applied; null when the old runner applied it. */
  readonly checksumMatches: boolean | null
  /** True when the old runner applied it (adopted, or to be adopted on the next migrate). */
  readonly adopted: boolean
  readonly executionMs: number | null
  /** False for a `-- wukong:no-transaction` file. */
  readonly atomic: boolean
  /** False when Kysely's `kysely_migration` does not have it yet (healed on the next migrate). */
  readonly recordedByKysely: boolean
}

/** A file not yet applied. */
export interface PendingMigration {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly statements: number
  readonly atomic: boolean
}

/**
 * Where a database stands against a folder of migration files.
 *
 * @example
 * ```ts
 * const status = await runner.status()
 * if (!status.isUpToDate) console.log(status.pending.map((p) => p.fileName))
 * ```
 */
export interface MigrationStatus {
  /** The highest applied version, or null when nothing is applied. */
  readonly currentVersion: number | null
  readonly applied: readonly AppliedMigration[]
  readonly pending: readonly PendingMigration[]
  readonly drifted: readonly DriftedMigration[]
  readonly missing: readonly MissingMigration[]
  readonly adopted: readonly AppliedMigration[]
  readonly isUpToDate: boolean
}

/** The raw bookkeeping of a database: both ledgers. */
export interface LedgerSnapshot {
  readonly ledger: readonly LedgerRow[]
  readonly kyselyNames: ReadonlySet<string>
}

/**
 * Reads both ledgers in ONE query whose cost does not grow with the schema or the ledger's
 * extra columns: the boot fast path. Only what the up-to-date check needs comes back
 * (version, checksum, file name, description; Kysely's names). Returns `'no-ledger'` when
 * `schema_versions` does not exist (nothing can be applied or drifted), and undefined when
 * another table or a bookkeeping column is missing (an old-runner database), which only the
 * slow path handles. Must not run inside a transaction (a failed query would abort it).
 *
 * @example
 * ```ts
 * const snapshot = await readSnapshotFast(db)
 * ```
 */
export async function readSnapshotFast(db: Kysely<any>): Promise<LedgerSnapshot | 'no-ledger' | undefined> {
  try {
    const { rows } = await sql<{ version: number | null; checksum: string | null; file_name: string | null; description: string | null; name: string | null }>`
      select version, checksum, file_name, description, null::text as name from schema_versions
      union all
      select null, null, null, null, name from kysely_migration
      union all
      select null, null, null, null, null from kysely_migration_lock`.execute(db)
    const ledger: LedgerRow[] = []
    const kyselyNames = new Set<string>()
    for (const r of rows) {
      if (r.version !== null) {
        ledger.push({ version: r.version, checksum: r.checksum, fileName: r.file_name, description: r.description ?? '', appliedAt: null, executionMs: null, adoptedAt: null, atomic: null })
      } else if (r.name !== null) {
        kyselyNames.add(r.name)
      }
    }
    ledger.sort((a, b) => a.version - b.version)
    return Object.freeze({ ledger, kyselyNames })
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    if (code === SQLSTATE.UNDEFINED_TABLE && /"schema_versions"/.test(message ?? '')) return 'no-ledger'
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_COLUMN) return undefined // another table, or a column
    throw error
  }
}

/**
 * Whether a migrate run has nothing to do: every file applied with a recorded checksum,
 * and Kysely's ledger naming exactly the applied files. Works on unparsed files.
 *
 * @example
 * ```ts
 * if (isInStep(provider.scanFiles(), snapshot)) console.log('up to date: nothing to parse or apply')
 * ```
 */
export function isInStep(files: readonly MigrationFileHead[], snapshot: LedgerSnapshot): boolean {
  const applied = new Map(snapshot.ledger.map((row) => [row.version, row]))
  for (const file of files) {
    const row = applied.get(file.version)
    if (!row || row.checksum === null || !snapshot.kyselyNames.has(file.name)) return false
  }
  return snapshot.kyselyNames.size === files.length
}

/**
 * Reads both ledgers, tolerating either being absent (a few catalog lookups).
 *
 * @example
 * ```ts
 * const snapshot = await readSnapshot(db)
 * ```
 */
export async function readSnapshot(db: Kysely<any>): Promise<LedgerSnapshot> {
  const { rows } = await sql<{ ledger: boolean; kysely: boolean }>`
    select to_regclass('schema_versions') is not null as ledger,
           to_regclass('kysely_migration') is not null as kysely`.execute(db)
  const [ledger, names] = await Promise.all([
    rows[0]?.ledger ? readLedgerRows(db) : [],
    rows[0]?.kysely ? sql<{ name: string }>`select name from kysely_migration`.execute(db).then((r) => r.rows.map((n) => n.name)) : [],
  ])
  return Object.freeze({ ledger, kyselyNames: new Set(names) })
}

/**
 * Compares files with a database's bookkeeping. Applied means committed: a version is
 * applied exactly when `schema_versions` has it.
 *
 * @example
 * ```ts
 * const status = computeStatus(files, await readSnapshot(db))
 * ```
 */
export function computeStatus(files: readonly MigrationFile[], snapshot: LedgerSnapshot): MigrationStatus {
  const byVersion = new Map(snapshot.ledger.map((row) => [row.version, row]))
  const applied: AppliedMigration[] = []
  const pending: PendingMigration[] = []
  for (const file of files) {
    const row = byVersion.get(file.version)
    if (!row) {
      pending.push(
        Object.freeze({ version: file.version, name: file.name, fileName: file.fileName, statements: file.sql.statements.length, atomic: file.sql.transactional }),
      )
      continue
    }
    applied.push(
      Object.freeze({
        version: file.version,
        name: file.name,
        fileName: file.fileName,
        description: row.description,
        appliedAt: row.appliedAt,
        checksumMatches: row.checksum === null ? null : row.checksum === file.checksum,
        adopted: row.checksum === null || row.adoptedAt !== null,
        executionMs: row.executionMs,
        atomic: row.atomic ?? true,
        recordedByKysely: snapshot.kyselyNames.has(file.name),
      }),
    )
  }
  const { drifted, missing } = findDrift(files, snapshot.ledger)
  const versions = snapshot.ledger.map((r) => r.version)
  const inStep = applied.every((a) => a.recordedByKysely && a.checksumMatches === true) && snapshot.kyselyNames.size === applied.length
  return Object.freeze({
    currentVersion: versions.length ? Math.max(...versions) : null,
    applied,
    pending,
    drifted,
    missing,
    adopted: applied.filter((a) => a.adopted),
    isUpToDate: pending.length === 0 && drifted.length === 0 && missing.length === 0 && inStep,
  })
}
