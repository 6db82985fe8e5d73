import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One migration: its version, the words of its name, and its SQL. */
export interface MigrationSpec {
  readonly version: number
  /** `create_table_001`: lower-case words joined by underscores. */
  readonly slug: string
  readonly sql: string
}

/**
 * The same migrations written out in every contender's own naming:
 * - `ours` (and Kysely's in-memory provider, which reads the same files): `NNN_slug.sql`;
 * - `postgrator`: `NNN.do.slug.sql`;
 * - `dbmate`: `NNN_slug.sql`: `-- migrate:up`, the SQL, an empty `-- migrate:down` (dbmate requires one);
 * - `psqlFile`: every file concatenated in order, for `psql -1 -f`.
 */
export interface MigrationFolders {
  readonly label: string
  readonly count: number
  readonly ours: string
  readonly postgrator: string
  readonly dbmate: string
  readonly psqlFile: string
  /** Every file's SQL concatenated in order (for the one-query floor). */
  readonly concatenated: string
  /** Every file's SQL, in order. */
  readonly texts: readonly string[]
}

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const UP_FILE = /^(\d{3,})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/

/**
 * `n` one-table migrations, `NNN_create_table_NNN`, each creating `bench_tNNN`.
 *
 * @example
 * ```ts
 * oneTableMigrations(3).map((m) => m.slug) // ['create_table_001', 'create_table_002', 'create_table_003']
 * ```
 */
export function oneTableMigrations(n: number): MigrationSpec[] {
  const width = Math.max(3, String(n).length)
  return Array.from({ length: n }, (_, i) => {
    const v = String(i + 1).padStart(width, '0')
    return {
      version: i + 1,
      slug: `create_table_${v}`,
      sql: `-- Benchmark table ${v}.\nCREATE TABLE bench_t${v} (\n  id bigserial PRIMARY KEY,\n  name text NOT NULL,\n  payload jsonb,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n`,
    }
  })
}

/**
 * SQL that creates `n` extra tables (`extra_NNNN`, five columns and a primary key each), to
 * grow the catalog without touching the migrations.
 *
 * @example
 * ```ts
 * await client.query(extraTablesSql(2000))
 * ```
 */
export function extraTablesSql(n: number): string {
  const width = Math.max(4, String(n).length)
  return Array.from({ length: n }, (_, i) => {
    const v = String(i + 1).padStart(width, '0')
    return `CREATE TABLE extra_${v} (id bigserial PRIMARY KEY, name text NOT NULL, amount integer, flags boolean DEFAULT false, created_at timestamptz DEFAULT now());`
  }).join('\n')
}

/**
 * The Wukong migrations: the package's `migrations/` folder, less its `-- wukong:no-transaction`
 * files (005 swaps the vector indexes CONCURRENTLY): every contender runs each file in a
 * transaction (psql -1, Kysely's Migrator, the one-query floor), so the workloads compare the
 * schema every contender can build, 001–004.
 *
 * @example
 * ```ts
 * const { specs, source } = await wukongMigrations()
 * ```
 */
export async function wukongMigrations(): Promise<{
  readonly specs: MigrationSpec[]
  readonly source: 'package'
  readonly folder: string
}> {
  const packaged = join(PACKAGE_ROOT, 'migrations')
  const specs = (await readSpecs(packaged)).filter(
    (s) => !/^--\s*wukong\s*:\s*no-transaction\s*$/i.test(s.sql.split('\n', 1)[0]!.trim()),
  )
  if (specs.length === 0) throw new Error(`no migration files in ${packaged}`)
  return { specs, source: 'package', folder: packaged }
}

async function readSpecs(folder: string): Promise<MigrationSpec[]> {
  const names = (await readdir(folder)).filter((f) => UP_FILE.test(f)).sort()
  return Promise.all(
    names.map(async (name) => {
      const [, version, slug] = UP_FILE.exec(name)!
      return { version: Number(version), slug: slug!, sql: await readFile(join(folder, name), 'utf8') }
    }),
  )
}

/**
 * Writes `specs` under `root/label/` in every contender's naming.
 *
 * @example
 * ```ts
 * const folders = await writeMigrationFolders('bench/.work/run', 'w1', oneTableMigrations(300))
 * ```
 */
export async function writeMigrationFolders(
  root: string,
  label: string,
  specs: readonly MigrationSpec[],
): Promise<MigrationFolders> {
  const base = join(root, label)
  await rm(base, { recursive: true, force: true })
  const folders = { ours: join(base, 'ours'), postgrator: join(base, 'postgrator'), dbmate: join(base, 'dbmate') }
  await Promise.all(Object.values(folders).map((f) => mkdir(f, { recursive: true })))
  const width = Math.max(3, ...specs.map((s) => String(s.version).length))
  await Promise.all(
    specs.flatMap((s) => {
      const v = String(s.version).padStart(width, '0')
      return [
        writeFile(join(folders.ours, `${v}_${s.slug}.sql`), s.sql),
        writeFile(join(folders.postgrator, `${v}.do.${s.slug}.sql`), s.sql),
        writeFile(join(folders.dbmate, `${v}_${s.slug}.sql`), `-- migrate:up\n${s.sql.trimEnd()}\n\n-- migrate:down\n`),
      ]
    }),
  )
  const concatenated = specs.map((s) => `-- ${s.version} ${s.slug}\n${s.sql.trimEnd()}\n`).join('')
  const psqlFile = join(base, 'all.sql')
  await writeFile(psqlFile, concatenated)
  return Object.freeze({
    label,
    count: specs.length,
    ...folders,
    psqlFile,
    concatenated,
    texts: specs.map((s) => s.sql),
  })
}
