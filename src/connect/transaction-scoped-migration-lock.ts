import { PostgresAdapter, sql, type DialectAdapter, type Kysely, type MigrationLockOptions } from 'kysely'

import { MigrationError } from '../errors/migration-error.js'
import { withAdapter } from '../provider/kysely-internals.js'
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS, MIGRATION_LOCK_KEY, pollForLock, type LockWait } from './poll-migration-lock.js'

export { MIGRATION_LOCK_KEY, DEFAULT_LOCK_WAIT_TIMEOUT_MS, type LockWait } from './poll-migration-lock.js'

/** Default interval of the keep-alive query on the lock session. */
export const DEFAULT_LOCK_HEARTBEAT_MS = 5_000

/** Options of {@link withTransactionScopedMigrationLock}. */
export interface TransactionScopedMigrationLockOptions {
  /**
   * How long to wait while another migrator holds the lock before the run fails with
   * `LOCK_TIMEOUT` (naming the holder's backend pid). Default 300 000 ms.
   */
  readonly waitTimeoutMs?: number | undefined
  /**
   * Interval of a `select 1` on the lock session while the lock is held, so that
   * `idle_in_transaction_session_timeout` or an idle-transaction limit of the pooler cannot end
   * the lock's transaction in the middle of a run, and so a lost lock is noticed. Default 5 000 ms.
   */
  readonly heartbeatMs?: number | undefined
  /** Called about every 5 s while waiting, e.g. to log who holds the lock. */
  readonly onWait?: ((wait: LockWait) => void) | undefined
}

const KEY_SQL = sql.raw(MIGRATION_LOCK_KEY.toString())

async function tryXactLock(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${KEY_SQL}) as locked`.execute(db)
  return rows[0]?.locked === true
}

/**
 * Gives Kysely's Migrator a migration lock that cannot outlive a transaction, for connections
 * through a transaction-mode pooler (PgBouncer, Neon's and Supabase's poolers) and for
 * `@vercel/postgres-kysely`.
 *
 * Why: Kysely's PostgreSQL adapter takes a *session* advisory lock. Behind a transaction-mode
 * pooler each statement may run on a different server session, so the unlock can land on a
 * session that does not hold the lock, leaving it on a pooled backend with no owner; every
 * later migrator then waits for it until the pooler recycles that backend.
 *
 * How: while the Migrator runs, a second connection of `db`'s pool keeps a transaction open
 * holding `pg_try_advisory_xact_lock` on {@link MIGRATION_LOCK_KEY}. A transaction pins one
 * server session in every pooler, and its lock ends with it: on commit, on rollback, or when
 * the migrator dies and the pooler drops the server connection. The Migrator's own connection
 * runs each file as on a direct connection (the provider's one-query batches, each its own
 * implicit transaction, ledger row first), so files commit one by one and the provider re-reads
 * the ledger under the lock. Waiters poll with a short try-lock transaction instead of blocking
 * in `pg_advisory_xact_lock`, so twenty waiting migrators do not pin twenty pooled server
 * connections and starve the holder (the pool needs room for 2: lock session and work).
 * Wrapping a transaction (for `new Migrator({ db: wrappedTrx })`, which runs every migration in
 * it) takes the lock inside that transaction instead: Kysely's own adapter would take a session
 * lock there and unlock it with a statement that fails if the transaction is aborted by then,
 * stranding the lock on a pooled backend.
 *
 * The returned instance is `db` with only the Migrator's lock replaced (queries, pool and
 * `destroy()` are `db`'s); the other capabilities of `db`'s adapter are kept, so on
 * `@vercel/postgres-kysely` `supportsTransactionalDdl` stays false and the Migrator hands
 * migrations a bare connection.
 *
 * @example
 * ```ts
 * import { createKysely } from '@vercel/postgres-kysely'
 * import { Migrator } from 'kysely/migration'
 * import { SqlFileMigrationProvider, withTransactionScopedMigrationLock } from '@wukong/adapter-vercel'
 *
 * const pooled = createKysely({ connectionString: process.env.POSTGRES_URL })
 * const migrator = new Migrator({
 *   db: withTransactionScopedMigrationLock(pooled),
 *   provider: new SqlFileMigrationProvider(),
 *   disableTransactions: true,
 * })
 * const { error } = await migrator.migrateToLatest()
 * ```
 */
export function withTransactionScopedMigrationLock<DB>(
  db: Kysely<DB>,
  options: TransactionScopedMigrationLockOptions = {},
): Kysely<DB> {
  const adapter = new TransactionScopedMigrationLockAdapter(db.getExecutor().adapter, db as Kysely<unknown>, options)
  return withAdapter(db, adapter)
}

/**
 * The adapter behind {@link withTransactionScopedMigrationLock}: PostgreSQL's, with the
 * Migrator's lock held by a transaction (see there) and `supportsTransactionalDdl` taken from
 * the adapter it replaces.
 */
export class TransactionScopedMigrationLockAdapter extends PostgresAdapter {
  readonly #inner: DialectAdapter
  readonly #pool: Kysely<unknown>
  readonly #options: TransactionScopedMigrationLockOptions
  // The Migrator passes the same `db` to acquire and release: one held lock per run.
  readonly #held = new WeakMap<object, HeldLock>()

  constructor(inner: DialectAdapter, pool: Kysely<any>, options: TransactionScopedMigrationLockOptions = {}) {
    super()
    this.#inner = inner
    this.#pool = pool
    this.#options = Object.freeze({ ...options })
  }

  override get supportsTransactionalDdl(): boolean {
    return this.#inner.supportsTransactionalDdl ?? false
  }

  override async acquireMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    const deadline = Date.now() + (this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS)
    if (db.isTransaction) {
      // The Migrator was handed a transaction: that transaction is the lock's scope, and its
      // end (commit, rollback, or the connection dropping) is the unlock.
      await pollForLock(db, deadline, this.#options, () => tryXactLock(db))
      return
    }
    if (this.#pool.isTransaction) {
      throw new TypeError(
        'withTransactionScopedMigrationLock: a wrapped transaction must be handed to the Migrator itself',
      )
    }
    const session = await openLockSession(this.#pool)
    try {
      await pollForLock(session.db, deadline, this.#options, async () => {
        await sql`begin`.execute(session.db)
        if (await tryXactLock(session.db)) return true
        await sql`rollback`.execute(session.db)
        return false
      })
    } catch (error) {
      // Never hand the pool a connection in the middle of a transaction.
      await sql`rollback`.execute(session.db).catch(() => {})
      session.release()
      await session.done
      throw error
    }
    this.#held.set(db, new HeldLock(session, this.#options.heartbeatMs ?? DEFAULT_LOCK_HEARTBEAT_MS))
  }

  override async releaseMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    // Also called when acquiring failed (Kysely releases in a `finally`): nothing held then.
    const held = this.#held.get(db)
    if (!held) return
    this.#held.delete(db)
    await held.release()
  }
}

/** A connection of the pool, kept out of it until `release()`. */
interface LockSession {
  readonly db: Kysely<unknown>
  release(): void
  /** Settles once the connection is back in the pool. */
  readonly done: Promise<void>
}

function openLockSession(pool: Kysely<unknown>): Promise<LockSession> {
  return new Promise((resolve, reject) => {
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let opened = false
    const done = pool
      .connection()
      .execute(async (db) => {
        opened = true
        resolve({ db, release, done })
        await released
      })
      .catch((error: unknown) => {
        if (!opened) reject(error)
      })
  })
}

/** A granted lock: its session's open transaction, kept alive until release. */
class HeldLock {
  readonly #session: LockSession
  readonly #timer: NodeJS.Timeout
  #queue: Promise<void> = Promise.resolve()
  #lost: unknown

  constructor(session: LockSession, heartbeatMs: number) {
    this.#session = session
    this.#timer = setInterval(() => this.#enqueue(() => sql`select 1`.execute(session.db).then(() => {})), heartbeatMs)
    // A heartbeat must never keep a finished process alive.
    this.#timer.unref()
  }

  async release(): Promise<void> {
    clearInterval(this.#timer)
    this.#enqueue(() => sql`rollback`.execute(this.#session.db).then(() => {}))
    await this.#queue
    this.#session.release()
    await this.#session.done
    if (this.#lost !== undefined) {
      const reason = this.#lost instanceof Error ? this.#lost.message : String(this.#lost)
      throw new MigrationError(
        'CONNECTION_FAILED',
        `the migration lock's connection failed during the run (${reason}), so another migrator may have run at the same time; ` +
          'each file committed atomically with its ledger row, so run the migrations again to check that everything is applied',
        { cause: this.#lost },
      )
    }
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#lost !== undefined) return
      try {
        await step()
      } catch (error) {
        this.#lost = error
      }
    })
  }
}
