import { sql, type DialectAdapter, type Kysely, type MigrationLockOptions } from 'kysely'

import { withAdapter } from '../provider/kysely-internals.js'
import {
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  KEY_SQL,
  MigrationLockAdapter,
  pollForLock,
  tryAdvisoryLock,
  type TransactionScopedMigrationLockOptions,
} from './transaction-scoped-migration-lock.js'
import { isLostConnection } from '../errors/sql-state.js'

/** Options of {@link withBoundedSessionMigrationLock}. */
export type BoundedSessionMigrationLockOptions = Omit<TransactionScopedMigrationLockOptions, 'heartbeatMs'>

/**
 * Gives Kysely's Migrator its session advisory lock with a bounded wait that holds no snapshot (Kysely's
 * own blocks for up to an hour). For direct connections; behind a pooler use {@link withTransactionScopedMigrationLock}.
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

class BoundedSessionMigrationLockAdapter extends MigrationLockAdapter {
  readonly #options: BoundedSessionMigrationLockOptions

  constructor(inner: DialectAdapter, options: BoundedSessionMigrationLockOptions) {
    super(inner)
    this.#options = Object.freeze({ ...options })
  }

  override async acquireMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    const wait = this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS
    const deadline = wait > 0 ? Date.now() + wait : Number.POSITIVE_INFINITY
    await pollForLock(db, deadline, () => tryAdvisoryLock(db, 'session'))
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
