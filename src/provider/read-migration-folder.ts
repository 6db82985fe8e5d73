import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { join, sep } from 'node:path'

import type { MigrationDownFileHead, MigrationFileHead } from './migration-file.js'
import { MigrationError, type MigrationErrorCode } from '../errors/migration-error.js'
import { decodeSqlFile, sqlChecksum } from './sql-text.js'

// schema_versions.version is a PostgreSQL integer.
const MAX_VERSION = 2_147_483_647

/** `NNN_descriptive_name.sql` or `NNN_descriptive_name.down.sql`. */
export const MIGRATION_FILE_PATTERN = /^(\d{3,})_([a-z0-9]+(?:_[a-z0-9]+)*)(\.down)?\.sql$/

// Reads and checks what needs no parser, afresh each call; synchronous, as blocking reads of small files beat promises.
export function scanMigrationFolder(folder: string, options: CollectProblems = {}): readonly MigrationFileHead[] {
  const problem = options.report ?? raise
  const refuse = (code: MigrationErrorCode, message: string, file: string): void =>
    problem(new MigrationError(code, message, { file }))
  let root: string
  let entries: import('node:fs').Dirent[]
  try {
    root = realpathSync(folder)
    entries = readdirSync(root, { withFileTypes: true })
  } catch (cause) {
    const reason = `migration folder ${folder} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`
    throw new MigrationError('FOLDER_NOT_FOUND', reason, { file: folder, cause })
  }

  const ups = new Map<string, { version: number; fileName: string }>()
  const downs = new Map<string, string>()
  const byVersion = new Map<number, string>()
  const links = new Set<string>()
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const fileName = entry.name
    // README.txt, .gitkeep, editor backups and dotfiles (macOS ._ files) are not read at all.
    if (fileName.startsWith('.') || !fileName.toLowerCase().endsWith('.sql')) continue
    if (entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(join(root, fileName)))) {
      refuse('UNREADABLE_FILE', `is a directory, not a migration file; rename or move it`, fileName)
      continue
    }
    if (entry.isSymbolicLink()) links.add(fileName)
    else if (!entry.isFile()) {
      // A FIFO or a device would block the synchronous read, and the process, forever.
      refuse('UNREADABLE_FILE', `is not a regular file`, fileName)
      continue
    }
    const match = MIGRATION_FILE_PATTERN.exec(fileName)
    if (!match) {
      const reason = `not a migration file name; expected NNN_descriptive_name.sql (at least 3 zero-padded digits, then lower-case words joined by underscores, e.g. 005_add_session_tags.sql)`
      refuse('INVALID_FILE_NAME', reason, fileName)
      continue
    }
    const version = Number(match[1])
    const name = `${match[1]}_${match[2]}`
    if (version > MAX_VERSION) {
      const reason = `version ${match[1]} is larger than the ledger can record (at most ${MAX_VERSION}); renumber the file`
      refuse('VERSION_OUT_OF_RANGE', reason, fileName)
      continue
    }
    if (match[3]) {
      downs.set(name, fileName)
      continue
    }
    const twin = byVersion.get(version)
    if (twin) {
      const reason = `version ${version} is also used by ${twin}; each version must have exactly one file`
      refuse('DUPLICATE_VERSION', reason, fileName)
      continue
    }
    byVersion.set(version, fileName)
    ups.set(name, { version, fileName })
  }
  for (const [name, fileName] of downs) {
    if (!ups.has(name))
      refuse('ORPHAN_DOWN_FILE', `a down file needs its up file ${name}.sql, which does not exist`, fileName)
  }
  const names = [...ups.keys()].sort()
  try {
    versionWidth(names.map((name) => ups.get(name)!.fileName))
  } catch (error) {
    problem(error as MigrationError)
  }

  const heads: MigrationFileHead[] = []
  for (const name of names) {
    const { version, fileName } = ups.get(name)!
    const downName = downs.get(name)
    try {
      const down = downName ? readSqlFile(root, downName, links.has(downName)) : undefined
      heads.push(Object.freeze({ version, name, ...readSqlFile(root, fileName, links.has(fileName)), down }))
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error
      problem(error)
    }
  }
  return heads
}

export interface CollectProblems {
  // Called with each problem instead of throwing on the first; the file is left out.
  readonly report?: ((error: MigrationError) => void) | undefined
}

export function raise(error: MigrationError): never {
  throw error
}

// Kysely runs migrations in name order, which is version order only at one width.
export function versionWidth(fileNames: readonly string[]): number {
  const files = fileNames
    .map((fileName) => ({ fileName, digits: MIGRATION_FILE_PATTERN.exec(fileName)?.[1] }))
    .filter((f): f is { fileName: string; digits: string } => f.digits !== undefined)
    .sort((x, y) => Number(x.digits) - Number(y.digits) || (x.fileName < y.fileName ? -1 : 1))
  if (files.length === 0) return 3
  // The one most files use (on a tie, the oldest file's): the first odd file is the one to rename.
  const counts = new Map<number, number>()
  for (const f of files) counts.set(f.digits.length, (counts.get(f.digits.length) ?? 0) + 1)
  let width = files[0]!.digits.length
  for (const [w, n] of counts) if (n > counts.get(width)!) width = w
  const odd = files.find((f) => f.digits.length !== width)
  if (odd) {
    const example = files.find((f) => f.digits.length === width)!.fileName
    const reason = `${odd.fileName} has a ${odd.digits.length}-digit version but the folder's files (e.g. ${example}) have ${width} digits; Kysely runs migrations in name order, which is version order only when every file has the same number of digits`
    throw new MigrationError('MIXED_VERSION_WIDTH', reason, { file: odd.fileName })
  }
  return width
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function readSqlFile(root: string, fileName: string, isLink: boolean): MigrationDownFileHead {
  const path = join(root, fileName)
  let bytes: Uint8Array
  try {
    // Only a link can lead out of the folder.
    const real = isLink ? realpathSync(path) : path
    if (isLink && !statSync(real).isFile()) {
      throw new MigrationError('UNREADABLE_FILE', `is a link to something that is not a regular file`, {
        file: fileName,
      })
    }
    if (!real.startsWith(root + sep)) {
      const reason = `is a link to ${real}, outside the migration folder; copy the file in instead`
      throw new MigrationError('FILE_OUTSIDE_FOLDER', reason, { file: fileName })
    }
    bytes = readFileSync(real)
  } catch (cause) {
    if (cause instanceof MigrationError) throw cause
    const reason = `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`
    throw new MigrationError('UNREADABLE_FILE', reason, { file: fileName, cause })
  }
  const text = decodeSqlFile(bytes, fileName)
  return Object.freeze({ fileName, path, text, checksum: sqlChecksum(text) })
}
