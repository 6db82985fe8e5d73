import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'

import type { MigrationDownFile, MigrationFile } from './migration-file.js'
import { MigrationError } from './migration-error.js'
import { parseMigrationSql } from './parse-migration-sql.js'
import { decodeSqlFile, sqlChecksum } from './sql-text.js'

/** `NNN_descriptive_name.sql` or `NNN_descriptive_name.down.sql`. */
export const MIGRATION_FILE_PATTERN = /^(\d{3,})_([a-z0-9]+(?:_[a-z0-9]+)*)(\.down)?\.sql$/

/**
 * Reads, validates and parses every migration file of a folder, before anything touches a
 * database. Dotfiles and Markdown files are ignored; any other file must be a migration.
 * Throws a {@link MigrationError} naming the file on the first problem.
 *
 * @example
 * ```ts
 * const files = await readMigrationFolder(new URL('../migrations', import.meta.url).pathname)
 * ```
 */
export async function readMigrationFolder(folder: string): Promise<readonly MigrationFile[]> {
  let root: string
  let entries: string[]
  try {
    root = await realpath(folder)
    entries = await readdir(root)
  } catch (cause) {
    throw new MigrationError(
      'FOLDER_NOT_FOUND',
      `migration folder ${folder} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { file: folder, cause },
    )
  }

  const ups = new Map<string, { version: number; fileName: string }>()
  const downs = new Map<string, string>()
  const byVersion = new Map<number, string>()
  for (const fileName of entries.sort()) {
    if (fileName.startsWith('.') || fileName.toLowerCase().endsWith('.md')) continue
    const path = join(root, fileName)
    if ((await stat(path).catch(() => undefined))?.isDirectory()) continue
    const match = MIGRATION_FILE_PATTERN.exec(fileName)
    if (!match) {
      throw new MigrationError(
        'INVALID_FILE_NAME',
        `${fileName}: not a migration file name; expected NNN_descriptive_name.sql (at least 3 zero-padded digits, then lower-case words joined by underscores, e.g. 005_add_session_tags.sql)`,
        { file: fileName },
      )
    }
    const version = Number(match[1])
    const name = `${match[1]}_${match[2]}`
    if (match[3]) {
      downs.set(name, fileName)
      continue
    }
    const twin = byVersion.get(version)
    if (twin) {
      throw new MigrationError(
        'DUPLICATE_VERSION',
        `${fileName}: version ${version} is also used by ${twin}; each version must have exactly one file`,
        { file: fileName },
      )
    }
    byVersion.set(version, fileName)
    ups.set(name, { version, fileName })
  }
  for (const [name, fileName] of downs) {
    if (!ups.has(name)) {
      throw new MigrationError(
        'ORPHAN_DOWN_FILE',
        `${fileName}: a down file needs its up file ${name}.sql, which does not exist`,
        { file: fileName },
      )
    }
  }
  const names = [...ups.keys()].sort()
  for (let i = 1; i < names.length; i++) {
    const [a, b] = [ups.get(names[i - 1]!)!, ups.get(names[i]!)!]
    if (a.version > b.version) {
      throw new MigrationError(
        'MIXED_VERSION_WIDTH',
        `${a.fileName} sorts before ${b.fileName} by name but its version is higher; Kysely runs migrations in name order, so give every file the same number of digits`,
        { file: a.fileName },
      )
    }
  }

  return Promise.all(
    names.map(async (name): Promise<MigrationFile> => {
      const { version, fileName } = ups.get(name)!
      const up = await readSqlFile(root, fileName, version)
      const downName = downs.get(name)
      const down: MigrationDownFile | undefined = downName
        ? Object.freeze(await readSqlFile(root, downName, version))
        : undefined
      const description =
        up.sql.ledgerInserts.find((i) => i.description)?.description ?? name.slice(name.indexOf('_') + 1).replace(/_/g, ' ')
      return Object.freeze({ version, name, description, ...up, down })
    }),
  )
}

async function readSqlFile(root: string, fileName: string, version: number): Promise<MigrationDownFile> {
  const path = join(root, fileName)
  let bytes: Uint8Array
  try {
    const real = await realpath(path)
    if (!real.startsWith(root + sep)) {
      throw new MigrationError(
        'FILE_OUTSIDE_FOLDER',
        `${fileName}: is a link to ${real}, outside the migration folder; copy the file in instead`,
        { file: fileName },
      )
    }
    bytes = await readFile(real)
  } catch (cause) {
    if (cause instanceof MigrationError) throw cause
    throw new MigrationError(
      'UNREADABLE_FILE',
      `${fileName}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { file: fileName, cause },
    )
  }
  const text = decodeSqlFile(bytes, fileName)
  const sql = await parseMigrationSql(text, fileName, version)
  return { fileName, path, text, checksum: sqlChecksum(text), sql }
}
