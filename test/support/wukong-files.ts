import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { DEFAULT_MIGRATION_FOLDER } from '../../src/index.js'
import { countedFiles, migrationFolder } from './folders.js'

/**
 * The package's own migrations (the Wukong schema) when the folder has files; until then a
 * stand-in folder of counted files, announced once, so the driver suites run either way.
 */
export async function wukongFolder(): Promise<{
  readonly folder: string
  readonly wukong: boolean
  readonly count: number
}> {
  const files = (await readdir(DEFAULT_MIGRATION_FOLDER).catch(() => [] as string[])).filter((f) =>
    /^\d+_.+(?<!\.down)\.sql$/.test(f),
  )
  if (files.length > 0) return { folder: DEFAULT_MIGRATION_FOLDER, wukong: true, count: files.length }
  console.warn('[wukong-files] migrations/ is empty: using a stand-in folder of 3 counted files')
  return { folder: await migrationFolder(countedFiles(3)), wukong: false, count: 3 }
}

/**
 * The ledger's columns every deployed reader relies on, for typed queries in driver tests
 * (a type alias: `withTables<T>()` needs an index-signature-compatible type).
 */
export type LedgerTables = {
  schema_versions: { version: number; description: string; applied_at: Date | null; checksum: string | null }
}

/**
 * A throwaway folder holding the package's own migration files (and their down files) up to
 * `version`: the Wukong schema as it stood at that version.
 */
export async function wukongFilesUpTo(version: number): Promise<string> {
  const names = (await readdir(DEFAULT_MIGRATION_FOLDER)).filter(
    (f) => /^\d+_.+\.sql$/.test(f) && Number(f.slice(0, f.indexOf('_'))) <= version,
  )
  const entries = await Promise.all(
    names.map(async (name) => [name, await readFile(join(DEFAULT_MIGRATION_FOLDER, name), 'utf8')] as const),
  )
  return migrationFolder(Object.fromEntries(entries))
}
