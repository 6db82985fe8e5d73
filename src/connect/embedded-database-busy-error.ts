import { hostname } from 'node:os'

import { MigrationError } from '../errors/migration-error.js'

/** The process that holds an embedded database's folder, as its lock file records it. */
export interface EmbeddedFolderHolder {
  readonly pid: number
  readonly host: string
  /** e.g. `node wukong-migrate.js migrate`, without folders or secret-looking arguments. */
  readonly command?: string
  /** When it took the folder (ISO 8601). */
  readonly since?: string
}

/**
 * The embedded database's folder stayed open in another process (PGlite serves one at a time)
 * for the whole `busyTimeoutMs`. Nothing was opened.
 *
 * @example
 * ```ts
 * try {
 *   await createDatabase({ busyTimeoutMs: 0 })
 * } catch (error) {
 *   if (error instanceof EmbeddedDatabaseBusyError) console.error(`pid ${error.holder?.pid} has ${error.dataDir}`)
 * }
 * ```
 */
export class EmbeddedDatabaseBusyError extends MigrationError {
  override readonly name: string = 'EmbeddedDatabaseBusyError'
  readonly dataDir: string
  /** The lock file naming the holder. */
  readonly lockFile: string
  /** Undefined when the lock file could not be read. */
  readonly holder: EmbeddedFolderHolder | undefined
  readonly waitedMs: number
  readonly busyTimeoutMs: number

  constructor(props: Omit<EmbeddedDatabaseBusyError, keyof MigrationError>) {
    super('EMBEDDED_DATABASE_BUSY', busyMessage(props))
    this.dataDir = props.dataDir
    this.lockFile = props.lockFile
    this.holder = props.holder ? Object.freeze({ ...props.holder }) : undefined
    this.waitedMs = props.waitedMs
    this.busyTimeoutMs = props.busyTimeoutMs
  }
}

function busyMessage(props: ConstructorParameters<typeof EmbeddedDatabaseBusyError>[0]): string {
  const { holder } = props
  const self = holder?.pid === process.pid && holder.host === hostname()
  const who = !holder
    ? 'another process'
    : `${self ? 'this process' : 'process'} ${holder.pid}${holder.command ? ` (${holder.command})` : ''}` +
      `${holder.host ? ` on ${holder.host}` : ''}${holder.since ? ` since ${holder.since}` : ''}`
  const waited = props.busyTimeoutMs > 0 ? `; waited ${formatSeconds(props.waitedMs)} for it to close` : ''
  // A dead holder on this host loses its lock by itself; one elsewhere cannot be checked.
  const hint = self
    ? ' (close the other database first, or give its Kysely instance to MigrationRunner as `db`)'
    : holder && holder.host !== hostname()
      ? ` (this host cannot tell whether it still runs: if it does not, delete ${props.lockFile})`
      : ''
  return `the embedded database in ${props.dataDir} is open in ${who}${waited}${hint}`
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`
}
