import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { MigrationRunner } from '../../src/index.js'

/**
 * Diagnostic: what ours spends before touching the database: a new runner reading,
 * validating and parsing (libpg-query) every file of `folder`.
 *
 * @example
 * ```ts
 * await oursLoadFiles('bench/.work/w1-300/ours')
 * ```
 */
export async function oursLoadFiles(folder: string): Promise<void> {
  await new MigrationRunner({ migrationFolder: folder }).verify()
}

/**
 * Diagnostic: the least an up-to-date check must do with the files: read each one and
 * hash it (SHA-256), without parsing.
 *
 * @example
 * ```ts
 * await readAndHashFiles('bench/.work/w1-300/ours')
 * ```
 */
export async function readAndHashFiles(folder: string): Promise<void> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.sql')).sort()
  await Promise.all(names.map(async (n) => createHash('sha256').update(await readFile(join(folder, n), 'utf8')).digest('hex')))
}
