import { embeddedBusyTimeoutMs } from '../connect/embedded-settings.js'
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../connect/pg-config.js'
import {
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  statementTimeouts,
  type MigrationTimeouts,
} from '../provider/migration-timeouts.js'

/** Every bound of a run, defaults applied. */
export type ResolvedTimeouts = { readonly [K in keyof MigrationTimeouts]-?: number }

/** The one place the timeouts' defaults are applied; the rest of the runner reads the result. */
export function resolveTimeouts(timeouts: MigrationTimeouts = {}, env = process.env): ResolvedTimeouts {
  return Object.freeze({
    ...statementTimeouts(timeouts),
    lockWaitMs: timeouts.lockWaitMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS,
    connectMs: timeouts.connectMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Read only for the embedded database: a bad WUKONG_PGLITE_BUSY_TIMEOUT_MS must not fail a run on a server.
    get embeddedBusyMs(): number {
      return embeddedBusyTimeoutMs(timeouts.embeddedBusyMs, env)
    },
  })
}
