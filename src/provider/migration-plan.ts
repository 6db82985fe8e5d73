import type { LedgerSnapshot } from './ledger.js'
import type { MigrationFileHead } from './migration-file.js'
import { MigrationError } from '../errors/migration-error.js'

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
  /** False when Kysely's `kysely_migration` does not have it yet (completed on the next migrate). */
  readonly recordedByKysely: boolean
}

/** A file not yet applied. */
export interface PendingMigration {
  readonly version: number
  readonly name: string
  readonly fileName: string
  /** Filled in by `status()`, which parses the pending files. */
  readonly statements: number
  readonly atomic: boolean
}

/** An applied file whose text changed since it was applied. */
export interface DriftedMigration {
  readonly version: number
  readonly fileName: string
  readonly appliedChecksum: string
  readonly fileChecksum: string
}

/** A version the ledgers record but no file in the folder has. */
export interface MissingMigration {
  readonly version: number
  readonly fileName: string | null
  readonly description: string
}

/** An applied file that has another name now (same version). */
export interface RenamedMigration {
  readonly version: number
  /** The name it was applied under. */
  readonly appliedFileName: string
  readonly fileName: string
}

/**
 * Where a database stands against the migration files: every verdict, from the one planner every entry point asks.
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
  readonly renamed: readonly RenamedMigration[]
  /** Pending files numbered below an applied version: migrate refuses them (`OUT_OF_ORDER`). */
  readonly outOfOrder: readonly PendingMigration[]
  readonly adopted: readonly AppliedMigration[]
  /** Nothing to apply, adopt or record, and nothing wrong. */
  readonly isUpToDate: boolean
  /** What `migrate` would refuse with (without `allowDrift`), if anything. */
  readonly refusal?: MigrationError | undefined
  /** Where the ledgers live, and the schemas of the other migration sets on this database. */
  readonly ledgerSchema: string
  readonly otherSets: readonly string[]
}

// `down` without `to` reverts the last file only; `to: 0` going down reverts a `000_` file too.
export interface MigrationTarget {
  readonly direction: 'up' | 'down' | 'to'
  readonly to?: number | undefined
}

export interface PlannedStep<F extends MigrationFileHead = MigrationFileHead> {
  readonly file: F
  readonly action: 'apply' | 'adopt' | 'heal' | 'revert'
}

// Applied means committed: a version is applied exactly when `schema_versions` has it.
export function planMigrations(
  files: readonly MigrationFileHead[],
  snapshot: Omit<LedgerSnapshot, 'restoreSql' | 'backendPid'>,
  options: { readonly allowDrift?: boolean | undefined } = {},
): MigrationStatus {
  const rows = new Map(snapshot.rows.map((r) => [r.version, r]))
  const kysely = new Set(snapshot.kysely.map((k) => k.name))
  const byVersion = new Map(files.map((f) => [f.version, f]))
  const highest = snapshot.rows.length ? Math.max(...snapshot.rows.map((r) => r.version)) : null
  const applied: AppliedMigration[] = []
  const pending: PendingMigration[] = []
  const drifted: DriftedMigration[] = []
  const renamed: RenamedMigration[] = []
  for (const { version, name, fileName, checksum } of [...files].sort((a, b) => a.version - b.version)) {
    const row = rows.get(version)
    if (!row) {
      pending.push(Object.freeze({ version, name, fileName, statements: 0, atomic: true }))
      continue
    }
    if (row.checksum !== null && row.checksum !== checksum) {
      drifted.push(Object.freeze({ version, fileName, appliedChecksum: row.checksum, fileChecksum: checksum }))
    }
    const kyselyName = snapshot.kysely.find((k) => versionOf(k.name) === version && k.name !== name)?.name
    const appliedFileName = row.fileName ?? (kyselyName ? `${kyselyName}.sql` : null)
    if (appliedFileName !== null && appliedFileName !== fileName) {
      renamed.push(Object.freeze({ version, appliedFileName, fileName }))
    }
    applied.push(
      Object.freeze({
        version,
        name,
        fileName,
        description: row.description,
        appliedAt: row.appliedAt,
        checksumMatches: row.checksum === null ? null : row.checksum === checksum,
        adopted: row.checksum === null || row.adoptedAt !== null,
        executionMs: row.executionMs,
        atomic: row.atomic ?? true,
        recordedByKysely: kysely.has(name),
      }),
    )
  }
  const missing: MissingMigration[] = snapshot.rows
    .filter((r) => !byVersion.has(r.version))
    .map((r) => Object.freeze({ version: r.version, fileName: r.fileName, description: r.description }))
  // Kysely's own record of a file no one has (and that no rename explains) is missing too.
  for (const { name } of snapshot.kysely) {
    const version = versionOf(name)
    if (files.some((f) => f.name === name) || (version !== undefined && (byVersion.has(version) || rows.has(version))))
      continue
    missing.push(Object.freeze({ version: version ?? -1, fileName: `${name}.sql`, description: '' }))
  }
  missing.sort((a, b) => a.version - b.version)
  const outOfOrder = highest === null ? [] : pending.filter((p) => p.version < highest)
  const status = {
    currentVersion: highest,
    applied,
    pending,
    drifted,
    missing,
    renamed,
    outOfOrder,
    adopted: applied.filter((a) => a.adopted),
    ledgerSchema: snapshot.home.schema,
    otherSets: snapshot.otherSets,
    isUpToDate:
      snapshot.complete &&
      pending.length + drifted.length + missing.length + renamed.length === 0 &&
      applied.every((a) => a.recordedByKysely && a.checksumMatches === true) &&
      kysely.size === applied.length,
  }
  return Object.freeze({
    ...status,
    refusal: refusalOf(files, snapshot, status, options.allowDrift ?? false),
  })
}

// Refuses with the very error `status` reports, so a run and its preview never disagree.
export function planSteps<F extends MigrationFileHead>(
  files: readonly F[],
  status: MigrationStatus,
  target: MigrationTarget,
): PlannedStep<F>[] {
  const byVersion = new Map(status.applied.map((a) => [a.version, a]))
  const current = status.currentVersion
  const down =
    target.direction === 'down' ||
    (target.direction === 'to' && current !== null && (target.to === 0 || (target.to ?? current) < current))
  // Out-of-order files block only the way up: reverting does not skip them.
  if (status.refusal && !(down && status.refusal.code === 'OUT_OF_ORDER')) throw status.refusal
  if (!down) {
    const to = target.to ?? Number.POSITIVE_INFINITY
    return [...files]
      .sort((a, b) => a.version - b.version)
      .filter((f) => f.version <= to)
      .flatMap((file): PlannedStep<F>[] => {
        const a = byVersion.get(file.version)
        if (!a) return [{ file, action: 'apply' }]
        if (a.checksumMatches === null) return [{ file, action: 'adopt' }]
        return a.recordedByKysely ? [] : [{ file, action: 'heal' }]
      })
  }
  const to = target.to
  const reverted = [...files]
    .filter((f) => byVersion.has(f.version) && (to === undefined ? f.version === current : f.version > to || to === 0))
    .sort((a, b) => b.version - a.version)
  const without = reverted.filter((f) => !f.down)
  if (without.length) {
    const reason = `cannot revert ${without.map((f) => f.fileName).join(', ')}: no .down.sql file (write ${without.map((f) => `${f.name}.down.sql`).join(', ')})`
    throw new MigrationError('NO_DOWN_FILE', reason, { file: without[0]!.fileName })
  }
  return reverted.map((file) => ({ file, action: 'revert' }))
}

function versionOf(name: string): number | undefined {
  const digits = /^(\d+)_/.exec(name)?.[1]
  return digits === undefined ? undefined : Number(digits)
}

function refusalOf(
  files: readonly MigrationFileHead[],
  snapshot: Omit<LedgerSnapshot, 'restoreSql' | 'backendPid'>,
  status: Omit<MigrationStatus, 'refusal'>,
  allowDrift: boolean,
): MigrationError | undefined {
  if (snapshot.shapeProblem) return new MigrationError('LEDGER_SHAPE', `${snapshot.shapeProblem}; nothing was run`)
  const tooLarge = files.find((f) => f.version > snapshot.maxVersion)
  if (tooLarge) {
    const reason = `version ${tooLarge.version} is larger than ${snapshot.home.ledger} can hold (at most ${snapshot.maxVersion}); renumber the file`
    return new MigrationError('VERSION_OUT_OF_RANGE', reason, { file: tooLarge.fileName })
  }
  const [renamed] = status.renamed
  if (renamed) {
    const list = status.renamed.map((r) => `${r.appliedFileName} → ${r.fileName}`).join(', ')
    const reason = `applied migration files were renamed: ${list}. Applied files are immutable: give them back the names they were applied under`
    return new MigrationError('RENAMED_MIGRATION_FILE', reason, { file: renamed.fileName })
  }
  const [drifted] = status.drifted
  if (drifted && !allowDrift) {
    const list = status.drifted
      .map((d) => `${d.fileName} (applied ${d.appliedChecksum}, file now ${d.fileChecksum})`)
      .join('; ')
    const reason = `applied migration files were edited: ${list}. Applied files are immutable: restore them and put the change in a new file (or pass allowDrift: true to migrate anyway)`
    return new MigrationError('CHECKSUM_MISMATCH', reason, { file: drifted.fileName })
  }
  const [missing] = status.missing
  if (missing && !allowDrift) {
    const list = status.missing
      .map(
        (m) =>
          `${m.fileName ?? `version ${m.version}`} (version ${m.version}${m.description ? `, "${m.description}"` : ''})`,
      )
      .join('; ')
    const reason = `the database has applied migrations whose files are gone: ${list}. Restore them, or point at the right folder (or pass allowDrift: true to migrate anyway)`
    const file = missing.fileName ?? `version ${missing.version}`
    return new MigrationError('MISSING_MIGRATION_FILE', reason, { file })
  }
  const [late] = status.outOfOrder
  if (late) {
    const names = status.outOfOrder.map((f) => f.fileName).join(', ')
    const highest = status.currentVersion
    return new MigrationError(
      'OUT_OF_ORDER',
      `${names} ${status.outOfOrder.length === 1 ? 'is' : 'are'} not applied but version ${highest} already is: ` +
        'files apply in version order, so a file numbered below an applied one would never run; ' +
        `renumber it above ${highest} (wukong-migrate create <name> gives the next number and copy the SQL there)`,
      { file: late.fileName },
    )
  }
  return undefined
}
