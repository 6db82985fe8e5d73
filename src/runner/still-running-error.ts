import { MigrationError } from '../errors/migration-error.js'

// `INTERRUPTED` once the canceled statement outlived the grace period: it may still run on the server.
export class StillRunningError extends MigrationError {
  /** The server process running it, when known: `pg_terminate_backend(backendPid)` ends it. */
  readonly backendPid: number | undefined

  constructor(reason: string, backendPid: number | undefined) {
    super('INTERRUPTED', reason)
    this.backendPid = backendPid
  }
}
