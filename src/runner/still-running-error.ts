import { MigrationError } from '../errors/migration-error.js'

/**
 * `INTERRUPTED`, and the canceled statement outlived the wait for its rollback: it may still run on the server.
 *
 * @example
 * ```ts
 * try {
 *   await new MigrationRunner({ signal: AbortSignal.timeout(60_000) }).migrate()
 * } catch (error) {
 *   if (error instanceof MigrationRunError && error.cause instanceof StillRunningError) console.error(error.cause.backendPid)
 * }
 * ```
 */
export class StillRunningError extends MigrationError {
  override readonly name: string = 'StillRunningError'
  /** The server process running it, when known: `pg_terminate_backend(backendPid)` ends it. */
  readonly backendPid: number | undefined

  constructor(reason: string, backendPid: number | undefined) {
    super('INTERRUPTED', reason)
    this.backendPid = backendPid
  }
}
