import { mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'

import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely'
import pg from 'pg'

import { MigrationError } from '../errors/migration-error.js'
import type { Database } from '../schema-types/index.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import { lockEmbeddedFolder, type EmbeddedFolderLock } from './embedded-folder-lock.js'
import { embeddedBusyTimeoutMs } from './embedded-settings.js'
import { guardConnectionErrors } from './guard-connection-errors.js'
import { importDriver } from './import-driver.js'
import { asError, thrownText } from './thrown-text.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'

// As CreateDatabaseOptions describes them, and a dump to boot `memory://` from.
interface OpenPgliteOptions {
  readonly busyTimeoutMs?: number | undefined
  readonly onBusy?: ((holder: EmbeddedFolderHolder | undefined) => void) | undefined
  readonly loadDataDir?: Blob | undefined
}

interface OpenedPglite {
  readonly pglite: PGlite
  /** Closes PGlite, then frees the folder for other processes. */
  close(): Promise<void>
}

// Every PGlite of this package comes from here, so a folder is only opened under its lock (two would corrupt it).
export async function openPglite(dataDir: string, options: OpenPgliteOptions = {}): Promise<OpenedPglite> {
  const inMemory = dataDir.startsWith('memory://')
  if (!inMemory && options.loadDataDir) throw new TypeError('openPglite: loadDataDir is for memory:// only')
  const [{ PGlite }, { vector }] = await importDriver(
    'embedded database',
    () =>
      Promise.all([
        importAtRunTime<typeof import('@electric-sql/pglite')>('@electric-sql/pglite'),
        importAtRunTime<typeof import('@electric-sql/pglite-pgvector')>('@electric-sql/pglite-pgvector'),
      ]),
    '@electric-sql/pglite',
    '@electric-sql/pglite-pgvector',
  )
  let lock: EmbeddedFolderLock | undefined
  let folder = dataDir
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true })
    // One lock per folder however it is named (a symlink, a relative path).
    folder = realpathSync(dataDir)
    lock = await lockEmbeddedFolder(folder, { busyTimeoutMs: options.busyTimeoutMs, onBusy: options.onBusy })
  }
  let pglite: PGlite
  try {
    const load = options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}
    pglite = await PGlite.create(folder, { extensions: { vector }, ...load })
  } catch (error) {
    lock?.release()
    const where = inMemory ? 'in memory' : `in ${folder}`
    const why = inMemory ? thrownText(error) : openFailure(folder, error)
    // The cause carries the explanation too: reports quote the cause's message.
    const cause = new Error(why, { cause: asError(error) })
    throw new MigrationError('CONNECTION_FAILED', `cannot open the embedded database ${where}: ${why}`, { cause })
  }
  let closing: Promise<void> | undefined
  return Object.freeze({
    pglite,
    close() {
      closing ??= (async () => {
        try {
          if (!pglite.closed) await pglite.close()
        } finally {
          lock?.release()
        }
      })()
      return closing
    },
  })
}

// The folder is this process's until `db.destroy()` or exit.
export async function createPgliteDatabase<DB = Database>(
  dataDir: string,
  options: Pick<OpenPgliteOptions, 'busyTimeoutMs' | 'onBusy'> = {},
): Promise<Kysely<DB>> {
  const opened = await openPglite(dataDir, {
    onBusy: options.onBusy,
    busyTimeoutMs: embeddedBusyTimeoutMs(options.busyTimeoutMs),
  })
  let pool: pg.Pool
  try {
    const { createPgConfig } = await importAtRunTime<typeof import('@electric-sql/pglite/node-postgres')>(
      '@electric-sql/pglite/node-postgres',
    )
    pool = guardConnectionErrors(new pg.Pool(createPgConfig(opened.pglite) as unknown as pg.PoolConfig))
  } catch (error) {
    await opened.close()
    throw error
  }
  const end = async () => {
    try {
      await pool.end()
    } finally {
      await opened.close()
    }
  }
  const { Client, options: poolOptions } = pool as unknown as PostgresPool
  const closing: PostgresPool = { Client, options: poolOptions, connect: () => pool.connect(), end }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: closing }) })
  // Kysely ends the pool only once a query has run: `db.destroy()` must free the folder even when unused.
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await db.destroy().catch(() => {})
    await opened.close()
    throw error
  }
  return db
}

// PGlite's own errors name neither what happened to the folder nor what to do.
function openFailure(folder: string, error: unknown): string {
  const said = thrownText(error)
  const aside = `move ${folder} aside (or delete it, if its data is disposable) so a new one is created, or point WUKONG_PGLITE_DIR at another folder`
  if (/\bEACCES\b|\bEPERM\b|permission denied/i.test(said))
    return `the process may not read or write ${folder} (${said}): give it access, or point WUKONG_PGLITE_DIR at another folder`
  if (/\bAborted\(|RuntimeError|unreachable/i.test(said))
    return `the embedded database's WebAssembly runtime aborted while opening the folder (${said}); run again, and if it repeats the folder is damaged: ${aside}`
  let version: string | undefined
  let entries: string[] = []
  try {
    entries = readdirSync(folder)
    version = readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim()
  } catch {
    // no PG_VERSION (or no folder): judged below from the entries
  }
  if (version !== undefined && !/^\d+$/.test(version))
    return `${folder} is not a PGlite data folder, or it is damaged: its PG_VERSION file reads "${version.slice(0, 40)}" (${said}); ${aside}`
  if (version !== undefined)
    return `${folder} holds a PostgreSQL ${version} data folder that this PGlite cannot open: made by another PGlite version, or damaged (${said}); ${aside}`
  if (entries.length > 0)
    return `${folder} is not empty and holds no PostgreSQL data (no PG_VERSION file): it is not a PGlite data folder (${said}); ${aside}`
  return said
}
