import type { LedgerRow } from './ledger.js'
import type { MigrationFileHead } from './migration-file.js'
import { MigrationError } from '../errors/migration-error.js'

/**
 * Files that are not applied although a higher version is: Kysely's Migrator applies files
 * in order after the last applied one, so such a file would never run (a branch merged
 * after a later file was deployed, usually).
 *
 * @example
 * ```ts
 * const late = findOutOfOrder(files, [...ledger.rows.values()]) // [{ fileName: '002_b.sql', … }]
 * ```
 */
export function findOutOfOrder(
  files: readonly MigrationFileHead[],
  ledger: readonly Pick<LedgerRow, 'version'>[],
): MigrationFileHead[] {
  if (ledger.length === 0) return []
  const applied = new Set(ledger.map((r) => r.version))
  const highest = Math.max(...applied)
  return files.filter((f) => f.version < highest && !applied.has(f.version))
}

/**
 * Throws `OUT_OF_ORDER`, naming the files and the highest applied version, when
 * {@link findOutOfOrder} finds any; `migrate`, `plan` and `status` all refuse the same way.
 *
 * @example
 * ```ts
 * assertInOrder(files, snapshot.ledger)
 * ```
 */
export function assertInOrder(
  files: readonly MigrationFileHead[],
  ledger: readonly Pick<LedgerRow, 'version'>[],
): void {
  const late = findOutOfOrder(files, ledger)
  if (late.length === 0) return
  const highest = Math.max(...ledger.map((r) => r.version))
  const names = late.map((f) => f.fileName).join(', ')
  throw new MigrationError(
    'OUT_OF_ORDER',
    `${names} ${late.length === 1 ? 'is' : 'are'} not applied but version ${highest} already is: ` +
      'files apply in version order, so a file numbered below an applied one would never run; ' +
      `renumber it above ${highest} (wukong-migrate create <name> gives the next number and copy the SQL there)`,
    { file: late[0]!.fileName },
  )
}
