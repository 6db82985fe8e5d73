import { createHash } from 'node:crypto'

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
 * How a database's two ledgers differ from a folder's files, as the server computed it: only
 * the differences come back, so the reply of an up-to-date database is one row whatever the
 * number of files. See {@link compareLedger}.
 */
export interface LedgerComparison {
  /** The highest version `schema_versions` records, or null when it is empty. */
  readonly currentVersion: number | null
  /** Applied files whose checksum changed. */
  readonly drifted: readonly DriftedMigration[]
  /** Versions the ledger records that no file has. */
  readonly missing: readonly MissingMigration[]
  /** Versions of files the ledger does not record. */
  readonly pending: readonly number[]
  /** Versions the old runner applied (a row without checksum), to be adopted. */
  readonly unadopted: readonly number[]
  /** Names of files Kysely's `kysely_migration` does not record. */
  readonly unrecordedByKysely: readonly string[]
  /** Names `kysely_migration` records that no file has. */
  readonly onlyInKysely: readonly string[]
  /** Nothing to apply, adopt or record (drift and missing files aside, see `assertNoDrift`). */
  readonly isInStep: boolean
}

interface ComparisonRow {
  kind: 'summary' | 'pending' | 'unadopted' | 'drifted' | 'missing' | 'unrecorded' | 'only-kysely'
  version: number | null
  name: string | null
  checksum: string | null
  file_name: string | null
  description: string | null
}

/**
 * The boot-time up-to-date check: ONE query when the database is up to date. It sends two
 * digests of the files (versions with checksums; names) and the server compares them with the
 * same digests of `schema_versions` and `kysely_migration`, answering with one short row. When
 * they differ, a second query sends the files' versions, checksums and names and the server
 * answers with only what differs (plus one summary row). Neither the reply nor the work grows
 * with the schema, and while in step the reply does not grow with the number of files. Returns `'no-ledger'` when `schema_versions` does not
 * exist, and undefined when Kysely's tables or a bookkeeping column is missing (an
 * old-runner database, which the slow path handles). Must not run inside a transaction (a
 * failed query would abort it).
 *
 * @example
 * ```ts
 * const diff = await compareLedger(db, provider.scanFiles())
 * if (diff !== 'no-ledger' && diff?.isInStep) console.log('up to date')
 * ```
 */
export async function compareLedger(
  db: Kysely<any>,
  files: readonly MigrationFileHead[],
): Promise<LedgerComparison | 'no-ledger' | undefined> {
  // First, digests only: a few hundred bytes up and one short row down. Only when they differ
  // (work to do, drift, or a ledger that lacks something) does a second query list the differences.
  const same = await digestsMatch(db, files)
  if (same === 'no-ledger' || same === undefined) return same
  if (same !== false) {
    return Object.freeze({
      currentVersion: same.currentVersion,
      drifted: [],
      missing: [],
      pending: [],
      unadopted: [],
      unrecordedByKysely: [],
      onlyInKysely: [],
      isInStep: true,
    })
  }
  let rows: ComparisonRow[]
  try {
    ;({ rows } = await sql<ComparisonRow>`
      with f as (
        select * from unnest(${files.map((f) => f.version)}::int[], ${files.map((f) => f.checksum)}::text[], ${files.map((f) => f.name)}::text[])
          as f(version, checksum, name)
      ),
      -- Every bookkeeping column is named, so that a ledger without them goes to the slow path.
      s as (select version, checksum, file_name, description, atomic, execution_ms, adopted_at from schema_versions),
      k as (select name::text as name from kysely_migration)
      -- The lock table is named for the same reason: Kysely's Migrator needs it.
      select 'summary' as kind, (select max(version) from s) as version,
             (select count(*) from kysely_migration_lock)::text as name,
             null::text as checksum, null::text as file_name, null::text as description
      union all
      select case when s.version is null then 'pending' when s.checksum is null then 'unadopted' else 'drifted' end,
             f.version, f.name, s.checksum, s.file_name, s.description
        from f left join s on s.version = f.version
       where s.checksum is distinct from f.checksum
      union all
      select 'missing', s.version, null, s.checksum, s.file_name, s.description
        from s where not exists (select from f where f.version = s.version)
      union all
      select 'unrecorded', f.version, f.name, null, null, null
        from f where not exists (select from k where k.name = f.name)
      union all
      select 'only-kysely', null, k.name, null, null, null
        from k where not exists (select from f where f.name = k.name)`.execute(db))
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    if (code === '42P01' && /"schema_versions"/.test(message ?? '')) return 'no-ledger'
    if (code === '42P01' || code === '42703') return undefined // another table, or a column
    throw error
  }
  const byVersion = new Map(files.map((f) => [f.version, f]))
  const drifted: DriftedMigration[] = []
  const missing: MissingMigration[] = []
  const pending: number[] = []
  const unadopted: number[] = []
  const unrecordedByKysely: string[] = []
  const onlyInKysely: string[] = []
  let currentVersion: number | null = null
  for (const r of rows) {
    if (r.kind === 'summary') currentVersion = r.version
    else if (r.kind === 'pending') pending.push(r.version!)
    else if (r.kind === 'unadopted') unadopted.push(r.version!)
    else if (r.kind === 'unrecorded') unrecordedByKysely.push(r.name!)
    else if (r.kind === 'only-kysely') onlyInKysely.push(r.name!)
    else if (r.kind === 'missing')
      missing.push(Object.freeze({ version: r.version!, fileName: r.file_name, description: r.description ?? '' }))
    else {
      const file = byVersion.get(r.version!)!
      drifted.push(
        Object.freeze({
          version: file.version,
          fileName: file.fileName,
          appliedChecksum: r.checksum!,
          fileChecksum: file.checksum,
        }),
      )
    }
  }
  const byNumber = (a: { version: number }, b: { version: number }): number => a.version - b.version
  drifted.sort(byNumber)
  missing.sort(byNumber)
  const isInStep = pending.length + unadopted.length + unrecordedByKysely.length + onlyInKysely.length === 0
  return Object.freeze({
    currentVersion,
    drifted,
    missing,
    pending,
    unadopted,
    unrecordedByKysely,
    onlyInKysely,
    isInStep,
  })
}

function ledgerDigest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

/**
 * Compares a digest of the files (`version:checksum` by version, and the names in byte order)
 * with the same digests the server computes over `schema_versions` and `kysely_migration`.
 * Equal digests mean the ledger has exactly the files' versions with their checksums and
 * Kysely's table exactly their names: up to date, no drift, nothing missing.
 */
async function digestsMatch(
  db: Kysely<unknown>,
  files: readonly MigrationFileHead[],
): Promise<{ readonly currentVersion: number | null } | false | 'no-ledger' | undefined> {
  const byVersion = [...files].sort((a, b) => a.version - b.version)
  const ledger = ledgerDigest(byVersion.map((f) => `${f.version}:${f.checksum}`))
  const names = ledgerDigest(files.map((f) => f.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
  try {
    const { rows } = await sql<{ ledger: boolean; kysely: boolean; version: number | null }>`
      with s as (select version, checksum, file_name, description, atomic, execution_ms, adopted_at from schema_versions)
      select encode(sha256(convert_to(coalesce((select string_agg(version::text || ':' || coalesce(checksum, ''), E'\n' order by version) from s), ''), 'UTF8')), 'hex') = ${ledger} as ledger,
             encode(sha256(convert_to(coalesce((select string_agg(name, E'\n' order by name collate "C") from kysely_migration), ''), 'UTF8')), 'hex') = ${names} as kysely,
             (select max(version) from s) as version,
             (select count(*) from kysely_migration_lock) > -1 as lock_table`.execute(db)
    const row = rows[0]
    return row?.ledger && row.kysely ? Object.freeze({ currentVersion: row.version }) : false
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    if (code === '42P01' && /"schema_versions"/.test(message ?? '')) return 'no-ledger'
    if (code === '42P01' || code === '42703') return undefined // another table, or a column
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
    rows[0]?.kysely
      ? sql<{ name: string }>`select name from kysely_migration`.execute(db).then((r) => r.rows.map((n) => n.name))
      : [],
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
        Object.freeze({
          version: file.version,
          name: file.name,
          fileName: file.fileName,
          statements: file.sql.statements.length,
          atomic: file.sql.transactional,
        }),
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
  const inStep =
    applied.every((a) => a.recordedByKysely && a.checksumMatches === true) &&
    snapshot.kyselyNames.size === applied.length
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
