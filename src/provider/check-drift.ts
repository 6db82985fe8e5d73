import type { LedgerRow } from './ledger.js'
import type { MigrationFileHead } from './migration-file.js'
import { MigrationError } from '../errors/migration-error.js'

/** An applied file whose text changed since it was applied. */
export interface DriftedMigration {
  readonly version: number
  readonly fileName: string
  readonly appliedChecksum: string
  readonly fileChecksum: string
}

/** A version the ledger records but no file in the folder has. */
export interface MissingMigration {
  readonly version: number
  readonly fileName: string | null
  readonly description: string
}

/** The result of comparing the ledger with the folder. */
export interface DriftReport {
  readonly drifted: readonly DriftedMigration[]
  readonly missing: readonly MissingMigration[]
}

/**
 * Compares the ledger with the files: checksums of applied files, and applied versions with
 * no file. Rows the old runner wrote (no checksum) are not drift: they are adopted.
 *
 * @example
 * ```ts
 * const { drifted, missing } = findDrift(files, await readLedger(db))
 * ```
 */
export function findDrift(
  files: readonly MigrationFileHead[],
  ledger: readonly Pick<LedgerRow, 'version' | 'checksum' | 'fileName' | 'description'>[],
): DriftReport {
  const byVersion = new Map(files.map((f) => [f.version, f]))
  const drifted: DriftedMigration[] = []
  const missing: MissingMigration[] = []
  for (const row of ledger) {
    const file = byVersion.get(row.version)
    if (!file) {
      missing.push(Object.freeze({ version: row.version, fileName: row.fileName, description: row.description }))
    } else if (row.checksum !== null && row.checksum !== file.checksum) {
      drifted.push(
        Object.freeze({
          version: row.version,
          fileName: file.fileName,
          appliedChecksum: row.checksum,
          fileChecksum: file.checksum,
        }),
      )
    }
  }
  return Object.freeze({ drifted, missing })
}

/**
 * Throws when the report has drift or missing files, naming every file and both checksums.
 *
 * @example
 * ```ts
 * assertNoDrift(findDrift(files, await readLedger(db)))
 * ```
 */
export function assertNoDrift(report: DriftReport): void {
  const [firstDrift] = report.drifted
  if (firstDrift) {
    const list = report.drifted
      .map((d) => `${d.fileName} (applied ${d.appliedChecksum}, file now ${d.fileChecksum})`)
      .join('; ')
    throw new MigrationError(
      'CHECKSUM_MISMATCH',
      `applied migration files were edited: ${list}. Applied files are immutable: restore them and put the change in a new file (or pass allowDrift: true to migrate anyway)`,
      { file: firstDrift.fileName },
    )
  }
  const [firstMissing] = report.missing
  if (firstMissing) {
    const list = report.missing
      .map((m) => `${m.fileName ?? `version ${m.version}`} (version ${m.version}, "${m.description}")`)
      .join('; ')
    throw new MigrationError(
      'MISSING_MIGRATION_FILE',
      `the database has applied migrations whose files are gone: ${list}. Restore them, or point at the right folder (or pass allowDrift: true to migrate anyway)`,
      { file: firstMissing.fileName ?? `version ${firstMissing.version}` },
    )
  }
}
