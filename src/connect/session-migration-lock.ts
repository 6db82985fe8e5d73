import { PostgresAdapter, sql, type DialectAdapter, type Kysely, type MigrationLockOptions } from 'kysely'

import { withAdapter } from '../provider/kysely-internals.js'
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS, MIGRATION_LOCK_KEY, pollForLock, type LockWait } from './poll-migration-lock.js'
import { isLostConnection } from '../errors/sql-state.js'

/** Options of {@link withBoundedSessionMigrationLock}. */
export interface BoundedSessionMigrationLockOptions {
  /**
   * How long to wait while another migrator holds the lock before the run fails with
   * `LOCK_TIMEOUT` (naming the holder). Default {@link DEFAULT_LOCK_WAIT_TIMEOUT_MS} (300 000 ms).
   */
  readonly waitTimeoutMs?: number | undefined
  /** Called about every 5 s while waiting, e.g. to log who holds the lock. */
  readonly onWait?: ((wait: LockWait) => void) | undefined
}

const KEY_SQL = sql.raw(MIGRATION_LOCK_KEY.toString())

/**
 * Gives Kysely's Migrator the same session advisory lock as Kysely's `PostgresAdapter`, with
 * a bounded wait that holds nothing while it waits.
 *
 * Why: Kysely blocks in `pg_advisory_lock` for up to one hour. A statement blocked there keeps
 * its snapshot, and a holder running `CREATE INDEX CONCURRENTLY` waits for every older
 * snapshot to end: the two wait for each other until PostgreSQL's deadlock detector cancels
 * one of them (SQLSTATE 40P01).
 *
 * How: `pg_try_advisory_lock` is tried on the Migrator's connection, with jittered backoff
 * (20 ms up to 500 ms) between short statements, until it is granted or `waitTimeoutMs`
 * passes (then `LOCK_TIMEOUT`, naming the holder's pid, application and query). The unlock is
 * Kysely's; an unlock on a connection that was lost is not an error, since the lock ended
 * with that session, so the error that ended the run is the one reported. Use it on a direct
 * connection (a session is one server session); behind a transaction-mode pooler use
 * `withTransactionScopedMigrationLock`.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely/migration'
 *
 * const migrator = new Migrator({
 *   db: withBoundedSessionMigrationLock(db, { waitTimeoutMs: 60_000 }),
 *   provider: new SqlFileMigrationProvider(),
 *   disableTransactions: true,
 * })
 * ```
 */
export function withBoundedSessionMigrationLock<DB>(
  db: Kysely<DB>,
  options: BoundedSessionMigrationLockOptions = {},
): Kysely<DB> {
  const adapter = new BoundedSessionMigrationLockAdapter(db.getExecutor().adapter, options)
  return withAdapter(db, adapter)
}

/**
 * The adapter behind {@link withBoundedSessionMigrationLock}: PostgreSQL's, with a bounded
 * wait for the Migrator's lock; `supportsTransactionalDdl` is the replaced adapter's.
 */
export class BoundedSessionMigrationLockAdapter extends PostgresAdapter {
  readonly #inner: DialectAdapter
  readonly #options: BoundedSessionMigrationLockOptions

  constructor(inner: DialectAdapter, options: BoundedSessionMigrationLockOptions = {}) {
    super()
    this.#inner = inner
    this.#options = Object.freeze({ ...options })
  }

  override get supportsTransactionalDdl(): boolean {
    return this.#inner.supportsTransactionalDdl ?? false
  }

  override async acquireMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    const wait = this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS
    const deadline = wait > 0 ? Date.now() + wait : Number.POSITIVE_INFINITY
    await pollForLock(db, deadline, this.#options, async () => {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${KEY_SQL}) as locked`.execute(db)
      return rows[0]?.locked === true
    })
  }

  override async releaseMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    try {
      await sql`select pg_advisory_unlock(${KEY_SQL})`.execute(db)
    } catch (error) {
      // A session that is gone holds no lock; anything else is worth hearing about.
      if (!isLostConnection(error)) throw error
    }
  }
}
