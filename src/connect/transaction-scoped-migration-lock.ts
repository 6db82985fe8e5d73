import { PostgresAdapter, sql, type DialectAdapter, type Kysely, type MigrationLockOptions, type QueryExecutor } from 'kysely'

import { MigrationError } from '../errors/migration-error.js'
import { KYSELY_MIGRATION_LOCK_KEY, withReplacedMember } from '../provider/kysely-internals.js'

/**
 * The advisory lock key of Kysely's `PostgresAdapter` (`pg_advisory_lock(3853314791062309107)`).
 * Ours is the same key, so our migrators, stock Kysely migrators (kysely-ctl) and any mix of
 * session and transaction locks exclude one another: PostgreSQL treats a session-level and a
 * transaction-level hold of one key as the same lock.
 */
export const MIGRATION_LOCK_KEY: bigint = KYSELY_MIGRATION_LOCK_KEY

/** Default longest wait for another migrator: long enough for a slow index build, bounded. */
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 300_000

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

/** Reported to `onWait` while a migrator waits for the lock. */
export interface LockWait {
  readonly waitedMs: number
  /** Backend pid of the holder, when PostgreSQL shows it to this role. */
  readonly holderPid?: number | undefined
  /** The holder's `pg_stat_activity.state` (`idle` with no transaction on a pooled server is a stranded session lock). */
  readonly holderState?: string | undefined
}

const KEY_SQL = sql.raw(MIGRATION_LOCK_KEY.toString())
const KEY_HIGH = Number(MIGRATION_LOCK_KEY >> 32n)
const KEY_LOW = Number(MIGRATION_LOCK_KEY & 0xffffffffn)
const FIRST_BACKOFF_MS = 20
const MAX_BACKOFF_MS = 500
const WAIT_REPORT_MS = 5_000

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
export function withTransactionScopedMigrationLock<DB>(db: Kysely<DB>, options: TransactionScopedMigrationLockOptions = {}): Kysely<DB> {
  const executor = db.getExecutor()
  const adapter = new TransactionScopedMigrationLockAdapter(executor.adapter, db as Kysely<unknown>, options)
  const lockedExecutor = withReplacedMember(executor, 'adapter', adapter)
  return withReplacedMember(db, 'getExecutor', (): QueryExecutor => lockedExecutor)
}

/**
 * The adapter behind {@link withTransactionScopedMigrationLock}: PostgreSQL's, with the
 * Migrator's lock held by a transaction (see there) and `supportsTransactionalDdl` taken from
 * the adapter it replaces.
 *
 * @example
 * ```ts
 * const adapter = new TransactionScopedMigrationLockAdapter(db.getExecutor().adapter, db)
 * adapter.supportsTransactionalDdl // as db's own adapter says
 * ```
 */
export class TransactionScopedMigrationLockAdapter extends PostgresAdapter {
  readonly #inner: DialectAdapter
  readonly #pool: Kysely<unknown>
  readonly #options: TransactionScopedMigrationLockOptions
  // The Migrator passes the same `db` to acquire and release: one held lock per run.
  readonly #held = new WeakMap<object, HeldLock>()

  constructor(inner: DialectAdapter, pool: Kysely<unknown>, options: TransactionScopedMigrationLockOptions = {}) {
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
      await pollForLock(db, deadline, this.#options, async () => {})
      return
    }
    if (this.#pool.isTransaction) {
      throw new TypeError('withTransactionScopedMigrationLock: a wrapped transaction must be handed to the Migrator itself')
    }
    const session = await openLockSession(this.#pool)
    try {
      await pollForLock(session.db, deadline, this.#options, () => sql`rollback`.execute(session.db).then(() => {}), () => sql`begin`.execute(session.db).then(() => {}))
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

/** Tries the lock in a short transaction until it is granted or `deadline` passes. */
async function pollForLock(
  db: Kysely<unknown>,
  deadline: number,
  options: TransactionScopedMigrationLockOptions,
  giveUp: () => Promise<void>,
  begin?: () => Promise<void>,
): Promise<void> {
  const started = Date.now()
  let backoff = FIRST_BACKOFF_MS
  let reported = started
  for (;;) {
    await begin?.()
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${KEY_SQL}) as locked`.execute(db)
    if (rows[0]?.locked) return
    await giveUp()
    const now = Date.now()
    if (now >= deadline || (options.onWait && now - reported >= WAIT_REPORT_MS)) {
      const holder = await lockHolder(db).catch(() => undefined)
      if (now >= deadline) {
        const who = holder?.holderPid ? ` by backend pid ${holder.holderPid} (state: ${holder.holderState ?? 'unknown'})` : ''
        throw new MigrationError(
          'LOCK_TIMEOUT',
          `another migrator held the migration lock${who} for the ${now - started} ms this run waited; ` +
            'a holder that is idle on a pooled server connection is a stranded session lock (see docs/deploying-on-vercel.md)',
        )
      }
      options.onWait?.({ waitedMs: now - started, ...holder })
      reported = now
    }
    // Full jitter keeps many booting instances from polling in step.
    await new Promise((r) => setTimeout(r, Math.random() * backoff))
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
  }
}

async function lockHolder(db: Kysely<unknown>): Promise<Omit<LockWait, 'waitedMs'>> {
  const { rows } = await sql<{ pid: number; state: string | null }>`
    select l.pid, a.state from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${KEY_HIGH}::int8::oid and l.objid = ${KEY_LOW}::int8::oid and l.objsubid = 1
    limit 1`.execute(db)
  const row = rows[0]
  return row ? { holderPid: row.pid, holderState: row.state ?? undefined } : {}
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
