import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { scratchDir } from './scratch.js'

/**
 * Writes a throwaway migration folder (removed when the test file ends): `{ '001_a.sql': 'create table a ();' }`.
 * Values may be strings or raw bytes (for encoding cases).
 */
export async function migrationFolder(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await scratchDir('wk-migrations-')
  await Promise.all(Object.entries(files).map(([name, body]) => writeFile(join(dir, name), body)))
  return dir
}

/** A folder of files that each record their run in a side-effect table, to prove nothing runs twice. */
export function countedFiles(count: number, extra: (n: number) => string = () => ''): Record<string, string> {
  const files: Record<string, string> = {}
  for (let n = 1; n <= count; n++) {
    const v = String(n).padStart(3, '0')
    files[`${v}_step_${n}.sql`] =
      (n === 1
        ? 'create table if not exists side_effects (version int not null, at timestamptz default clock_timestamp());\n'
        : '') +
      `create table t${n} (id int primary key);\ninsert into side_effects (version) values (${n});\n${extra(n)}`
  }
  return files
}
