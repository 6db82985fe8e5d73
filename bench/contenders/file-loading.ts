import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { MigrationRunner } from '../../src/index.js'
import { parseMigrationSql } from '../../src/provider/parse-migration-sql.js'

// Diagnostics: where a new runner's time goes before it touches the database. Each takes
// the folder of `NNN_name.sql` files.

/** A new runner reads, validates and parses (libpg-query) every file: what `migrate()` does first. */
export async function oursLoadFiles(folder: string): Promise<void> {
  await new MigrationRunner({ migrationFolder: folder }).verify()
}

/** What the up-to-date check does before its query in a new process: read, validate names and encoding, checksum; no parsing. */
export async function oursScanFiles(folder: string): Promise<void> {
  new MigrationRunner({ migrationFolder: folder }).provider.scanFiles()
}

/** Parsing alone, the texts already in memory (read untimed, once per folder). */
export async function parseOnly(folder: string): Promise<void> {
  const texts = cachedTexts(folder)
  for (const [i, text] of texts.entries()) await parseMigrationSql(text, `${i}.sql`, i + 1)
}

/** Reading every file with `fs/promises` (in parallel) and hashing it: what a check needs. */
export async function readAndHashFiles(folder: string): Promise<void> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.sql')).sort()
  await Promise.all(
    names.map(async (n) =>
      createHash('sha256')
        .update(await readFile(join(folder, n), 'utf8'))
        .digest('hex'),
    ),
  )
}

/** The same with synchronous reads (no thread-pool hop per file operation). */
export async function readAndHashFilesSync(folder: string): Promise<void> {
  for (const n of readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    createHash('sha256')
      .update(readFileSync(join(folder, n), 'utf8'))
      .digest('hex')
  }
}

const texts = new Map<string, string[]>()
function cachedTexts(folder: string): string[] {
  let t = texts.get(folder)
  if (!t) {
    t = readdirSync(folder)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((n) => readFileSync(join(folder, n), 'utf8'))
    texts.set(folder, t)
  }
  return t
}

/** The diagnostics W1 times alongside the contenders. */
export const FILE_DIAGNOSTICS = [
  {
    id: 'ours-scan',
    label: 'ours: a new runner reads and checksums the files (what the up-to-date check needs)',
    run: oursScanFiles,
  },
  {
    id: 'ours-load',
    label: 'ours: a new runner reads, validates and parses the files (before applying)',
    run: oursLoadFiles,
  },
  { id: 'parse-only', label: 'libpg-query parsing alone (texts in memory)', run: parseOnly },
  { id: 'read-hash', label: 'read (fs/promises, in parallel) + SHA-256 only', run: readAndHashFiles },
  { id: 'read-hash-sync', label: 'read (readFileSync) + SHA-256 only', run: readAndHashFilesSync },
] as const
