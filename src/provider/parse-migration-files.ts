import type { MigrationDownFileHead, MigrationFile, MigrationFileHead } from './migration-file.js'
import { MigrationError } from '../errors/migration-error.js'
import { parseMigrationSql, type ParsedSql } from './parse-migration-sql.js'
import { type CollectProblems, raise, scanMigrationFolder } from './read-migration-folder.js'

// Apart from the folder scan, so that the up-to-date check loads no parsing code.
// `memo` (one per provider) is keyed by content, so a text is parsed once and an entry cannot go stale.
export async function parseMigrationFiles(
  heads: readonly MigrationFileHead[],
  options: CollectProblems & { readonly memo?: Map<string, Promise<ParsedSql>> } = {},
): Promise<readonly MigrationFile[]> {
  const memo = options.memo ?? new Map<string, Promise<ParsedSql>>()
  const parseCached = (file: MigrationDownFileHead, version: number, direction: 'up' | 'down') => {
    const key = `${file.fileName}\0${version}\0${direction}\0${file.checksum}`
    let parsed = memo.get(key)
    if (!parsed) {
      parsed = parseMigrationSql(file.text, file.fileName, version, direction)
      memo.set(key, parsed)
      parsed.catch(() => memo.delete(key))
    }
    return parsed
  }
  const problem = options.report ?? raise
  const files: MigrationFile[] = []
  for (const head of heads) {
    let sql: ParsedSql
    let down: MigrationFile['down']
    try {
      sql = await parseCached(head, head.version, 'up')
      if (head.down) down = Object.freeze({ ...head.down, sql: await parseCached(head.down, head.version, 'down') })
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error
      problem(error)
      continue
    }
    const description =
      sql.ledgerInserts.find((i) => i.description)?.description ??
      head.name.slice(head.name.indexOf('_') + 1).replace(/_/g, ' ')
    files.push(Object.freeze({ ...head, description, sql, down }))
  }
  return files
}

/**
 * Reads, validates and parses every migration file of a folder, before anything touches a database.
 *
 * @example
 * ```ts
 * const files = await readMigrationFolder(new URL('../migrations', import.meta.url).pathname)
 * ```
 */
export async function readMigrationFolder(folder: string): Promise<readonly MigrationFile[]> {
  return parseMigrationFiles(scanMigrationFolder(folder))
}
