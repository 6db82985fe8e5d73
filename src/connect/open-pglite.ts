import { mkdirSync, realpathSync } from 'node:fs'

import type { PGlite } from '@electric-sql/pglite'

import { MigrationError } from '../errors/migration-error.js'
import type { EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import { importDriver } from './import-driver.js'
import { lockEmbeddedFolder, type EmbeddedFolderLock } from './embedded-folder-lock.js'
import { embeddedOpenFailure } from './embedded-open-failure.js'
import { asError, thrownText } from './thrown-text.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'

/** Options of {@link openPglite}. */
export interface OpenPgliteOptions {
  /** Longest wait for another process to close the folder; 0 fails at once. Default 10 000 ms. */
  readonly busyTimeoutMs?: number | undefined
  /** Called once when the folder is open in another process and the wait begins. */
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
  /** A data directory dump (`dumpDataDir()`) to boot from; for `memory://` only. */
  readonly loadDataDir?: Blob | undefined
}

/** A PGlite instance from {@link openPglite}, and how to close it. */
export interface OpenedPglite {
  readonly pglite: PGlite
  /** Closes PGlite, then frees the folder for other processes. */
  close(): Promise<void>
}

/**
 * Opens PGlite (with pgvector) on a data folder, or in memory for `memory://`. Every PGlite
 * this package opens comes from here, so a folder is only ever opened under its lock (see
 * `lockEmbeddedFolder`): PGlite is one process's database, and a second process opening the
 * same folder would overwrite the first one's work. A folder that another running process has
 * open is waited for (`busyTimeoutMs`), then refused with an `EmbeddedDatabaseBusyError`.
 * PGlite is loaded here, on first use, never by merely importing this package.
 */
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
    const why = inMemory ? thrownText(error) : embeddedOpenFailure(folder, error)
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
