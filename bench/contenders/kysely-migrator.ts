import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { Kysely, PostgresDialect, sql } from 'kysely'
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration'
import pg from 'pg'

import { guardConnectionErrors } from '../../src/connect/index.js'
import { expectCount, type Contender } from './contender.js'

/**
 * Kysely's Migrator, default settings, with an in-memory provider that runs each file's
 * SQL as written (`sql.raw(text).execute(db)`). The SQL is held in memory (read once in
 * `prepare`, untimed), as an app that bundles its migrations would: Kysely's figures carry
 * no file reading, while ours reads its files in every timed call.
 */
export const kyselyMigrator: Contender = {
  id: 'kysely',
  label: "Kysely's Migrator (in-memory provider)",
  runs: 'in-process',
  async prepare(folders) {
    await loadSql(folders.ours)
  },
  async apply(target, folders) {
    const db = connect(target.url)
    try {
      const { error, results } = await new Migrator({ db, provider: rawSqlProvider(folders.ours) }).migrateToLatest()
      if (error) throw error
      expectCount('kysely: files applied', results?.filter((r) => r.status === 'Success').length ?? 0, folders.count)
    } finally {
      await db.destroy()
    }
  },
  async check(target, folders) {
    const db = connect(target.url)
    try {
      await checkOnce(db, folders.ours)
    } finally {
      await db.destroy()
    }
  },
  async openSession(target, folders) {
    const db = connect(target.url)
    await sql`select 1`.execute(db)
    return { check: () => checkOnce(db, folders.ours), close: () => db.destroy() }
  },
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function connect(url: string): Kysely<any> {
  return new Kysely({
    dialect: new PostgresDialect({ pool: guardConnectionErrors(new pg.Pool({ connectionString: url })) }),
  })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function checkOnce(db: Kysely<any>, folder: string): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: rawSqlProvider(folder) }).migrateToLatest()
  if (error) throw error
  expectCount('kysely: files applied by the check', results?.length ?? 0, 0)
}

const loaded = new Map<string, Promise<readonly { readonly name: string; readonly text: string }[]>>()

/** Reads a folder's `NNN_name.sql` files once; later calls return the same texts. */
function loadSql(folder: string): Promise<readonly { readonly name: string; readonly text: string }[]> {
  let files = loaded.get(folder)
  if (!files) {
    files = (async () => {
      const names = (await readdir(folder)).filter((f) => f.endsWith('.sql') && !f.endsWith('.down.sql')).sort()
      return Promise.all(
        names.map(async (n) => ({ name: n.slice(0, -'.sql'.length), text: await readFile(join(folder, n), 'utf8') })),
      )
    })()
    loaded.set(folder, files)
  }
  return files
}

/**
 * A provider over a folder's `NNN_name.sql` files, held in memory after the first read, that
 * runs each file's text as one raw query.
 *
 * @example
 * ```ts
 * new Migrator({ db, provider: rawSqlProvider('migrations') })
 * ```
 */
export function rawSqlProvider(folder: string): MigrationProvider {
  return {
    async getMigrations() {
      const migrations: Record<string, Migration> = {}
      for (const { name, text } of await loadSql(folder)) {
        migrations[name] = {
          async up(db) {
            await sql.raw(text).execute(db)
          },
        }
      }
      return migrations
    },
  }
}
