import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import {
  MIGRATION_FILE_PATTERN,
  NO_TRANSACTION_DIRECTIVE,
  OWN_TIMEOUTS_DIRECTIVE,
  versionWidth,
} from '../provider/index.js'
import { CliError, UsageError } from './cli-error.js'

/** `Ädd Session/Tags.sql` → `add_session_tags`: the file pattern accepts only lower-case ASCII words. */
export function migrationSlug(raw: string): string {
  let slug = raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .trim()
    .replace(/(\.down)?\.sql$/i, '')
    .replace(/^\d{3,}_/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  // Well inside every file system's name limit, cut at a word's end.
  if (slug.length > 60) slug = /^(.{1,60})(?:_|$)/.exec(slug.slice(0, 61))?.[1] ?? slug.slice(0, 60)
  if (!slug)
    throw new UsageError(`"${raw}" has no letters or digits to name a migration with, e.g. create add_session_tags`)
  return slug
}

/** Zero-pads to the folder's width, so names keep sorting in version order, the order Kysely runs them in. */
export async function createMigrationFile(folder: string, rawName: string) {
  const slug = migrationSlug(rawName)
  await mkdir(folder, { recursive: true })
  const names = await readdir(folder)
  const existing = names.map((f) => ({ f, m: MIGRATION_FILE_PATTERN.exec(f) })).filter((e) => e.m !== null)
  const twin = existing.find((e) => e.m![2] === slug && !e.m![3]) ?? existing.find((e) => e.m![2] === slug)
  if (twin) {
    throw new CliError('NAME_EXISTS', `${twin.f} already uses the name "${slug}"`, {
      file: twin.f,
      advice:
        'names say what a migration does, once: pick a more specific name, or change that file if it is not applied anywhere yet',
    })
  }
  const versions = existing.map((e) => Number(e.m![1]))
  const width = versionWidth(names)
  const version = versions.length ? Math.max(...versions) + 1 : 1
  if (String(version).length > width) {
    // 999 → 1000 with 3-digit names: "1000_x" would sort before "999_y", and Kysely runs by name.
    throw new CliError(
      'MIXED_VERSION_WIDTH',
      `version ${version} needs ${String(version).length} digits but the folder's files use ${width}`,
      {
        advice:
          "every file must have the same number of digits; this needs a renumbering by hand (and in every database's kysely_migration)",
      },
    )
  }
  const name = `${String(version).padStart(width, '0')}_${slug}`
  const fileName = `${name}.sql`
  const path = join(folder, fileName)
  try {
    await writeFile(path, migrationTemplate(fileName), { flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError('NAME_EXISTS', `${fileName} already exists`, { file: fileName })
    throw error
  }
  return Object.freeze({ version, name, fileName, path })
}

// No statement on purpose: an untouched template is rejected as empty, never applied by accident.
function migrationTemplate(fileName: string): string {
  const down = fileName.replace(/\.sql$/, '.down.sql')
  return `-- ${fileName}
--
-- Write the change below in plain PostgreSQL. The whole file runs in ONE transaction
-- together with its row in schema_versions: all of it applies, or none of it.
--
-- * No BEGIN/COMMIT: the runner supplies the transaction and rejects transaction control.
-- * Once this file is applied anywhere, never edit it: its checksum is recorded and
--   migrate refuses edited files. Put further changes in a new file
--   (wukong-migrate create <name>).
-- * CREATE INDEX CONCURRENTLY and other statements that cannot run in a transaction need
--   "${NO_TRANSACTION_DIRECTIVE}" as the file's very first line; such a file is not atomic,
--   so keep it to those statements and make them idempotent (IF NOT EXISTS).
-- * SET/set_config last only for this file. lock_timeout and statement_timeout come from
--   the run (--lock-timeout, --statement-timeout); to set them here, add the line
--   "${OWN_TIMEOUTS_DIRECTIVE}" at the very top of the file.
-- * Optional: ${down} undoes this file for \`wukong-migrate down\`.
-- * Check it offline with \`wukong-migrate verify\`; see what would run with \`wukong-migrate plan\`.
--
-- Until a statement is written below, verify and migrate reject this file as empty.

`
}
