/**
 * The bounds of a migration run, in milliseconds; 0 waits forever (`statementMs`: no limit).
 *
 * @example
 * ```ts
 * const runner = new MigrationRunner({ timeouts: { lockMs: 2_000, lockWaitMs: 60_000 } })
 * ```
 */
export interface MigrationTimeouts {
  /** `lock_timeout` of each statement and of the tool's ledger queries: `LOCK_TIMEOUT` beats a hang. Default 10 000. */
  readonly lockMs?: number | undefined
  /** Longest wait for another migrator's migration lock, then `LOCK_TIMEOUT` naming it. Default 300 000. */
  readonly lockWaitMs?: number | undefined
  /** pg: longest wait for a connection (TCP, TLS, login); the URL's `connect_timeout` wins. Default 30 000. */
  readonly connectMs?: number | undefined
  /** `statement_timeout` for each file's statements. Default 0: no limit. */
  readonly statementMs?: number | undefined
  /** Wait for another process to close the embedded database. Default `WUKONG_PGLITE_BUSY_TIMEOUT_MS`, else 10 000. */
  readonly embeddedBusyMs?: number | undefined
}

// Fail fast rather than hang a deploy, and queue the app's queries behind a waiting ALTER TABLE.
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000

// Long enough for another instance's slow index build, far below Kysely's own hour.
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 300_000

/** The bounds of each file's statements, defaults applied (what `SET lock_timeout`, `statement_timeout` get). */
export type StatementTimeouts = { readonly lockMs: number; readonly statementMs: number }

export function statementTimeouts(timeouts: MigrationTimeouts = {}): StatementTimeouts {
  const setting = (ms: number): number => Math.max(0, Math.trunc(ms))
  return {
    lockMs: setting(timeouts.lockMs ?? DEFAULT_LOCK_TIMEOUT_MS),
    statementMs: setting(timeouts.statementMs ?? 0),
  }
}
