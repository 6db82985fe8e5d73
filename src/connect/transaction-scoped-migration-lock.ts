import { PostgresAdapter, sql, type DialectAdapter, type Kysely, type MigrationLockOptions } from 'kysely'

import { MigrationError } from '../errors/migration-error.js'
import { KYSELY_MIGRATION_LOCK_KEY, withAdapter } from '../provider/kysely-internals.js'
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS } from '../provider/migration-timeouts.js'
import { describeSession, type SessionSummary } from '../provider/session-summary.js'

// Kysely's own key: our locks, stock Kysely migrators and session or transaction holds all exclude one another.
export const MIGRATION_LOCK_KEY: bigint = KYSELY_MIGRATION_LOCK_KEY
export const KEY_SQL = sql.raw(MIGRATION_LOCK_KEY.toString())

export { DEFAULT_LOCK_WAIT_TIMEOUT_MS } from '../provider/migration-timeouts.js'

/** PostgreSQL's adapter with another Migrator lock; `supportsTransactionalDdl` stays the replaced adapter's. */
export abstract class MigrationLockAdapter extends PostgresAdapter {
  readonly #inner: DialectAdapter

  constructor(inner: DialectAdapter) {
    super()
    this.#inner = inner
  }

  override get supportsTransactionalDdl(): boolean {
    return this.#inner.supportsTransactionalDdl ?? false
  }
}

const KEY_HIGH = Number(MIGRATION_LOCK_KEY >> 32n)
const KEY_LOW = Number(MIGRATION_LOCK_KEY & 0xffffffffn)
const FIRST_BACKOFF_MS = 20
const MAX_BACKOFF_MS = 500

// Polls rather than blocks: a blocked waiter's snapshot would stall a holder's CREATE INDEX CONCURRENTLY.
export async function pollForLock(db: Kysely<any>, deadline: number, tryLock: () => Promise<boolean>): Promise<void> {
  const started = Date.now()
  let backoff = FIRST_BACKOFF_MS
  for (;;) {
    if (await tryLock()) return
    const now = Date.now()
    if (now >= deadline) {
      const holder = await lockHolder(db).catch(() => undefined)
      const who = holder ? ` by ${describeSession(holder)}` : ''
      throw new MigrationError(
        'LOCK_TIMEOUT',
        `another migrator held the migration lock${who} for the ${now - started} ms this run waited; ` +
          'a holder that is idle on a pooled server connection is a stranded session lock (see docs/vercel.md in the package)',
      )
    }
    // Full jitter keeps many booting instances from polling in step.
    await new Promise((r) => setTimeout(r, Math.min(Math.random() * backoff, Math.max(0, deadline - Date.now()))))
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
  }
}

async function lockHolder(db: Kysely<any>): Promise<SessionSummary | undefined> {
  const { rows } = await sql<SessionSummary>`
    select l.pid, a.state, a.application_name as "applicationName", a.query
    from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${KEY_HIGH}::int8::oid and l.objid = ${KEY_LOW}::int8::oid and l.objsubid = 1
      -- Advisory locks belong to one database: a migrator of another database holds another lock.
      and l.database = (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database())
    limit 1`.execute(db)
  return rows[0]
}

const DEFAULT_LOCK_HEARTBEAT_MS = 5_000

/** Options of {@link withTransactionScopedMigrationLock}. */
export interface TransactionScopedMigrationLockOptions {
  /** Longest wait for another migrator's lock, then `LOCK_TIMEOUT` naming the holder. Default 300 000 ms. */
  readonly waitTimeoutMs?: number | undefined
  /** Interval of a `select 1` that keeps the lock's transaction from idle timeouts. Default 5 000 ms. */
  readonly heartbeatMs?: number | undefined
}

export async function tryAdvisoryLock(db: Kysely<unknown>, scope: 'session' | 'transaction'): Promise<boolean> {
  const lock = sql.raw(scope === 'session' ? 'pg_try_advisory_lock' : 'pg_try_advisory_xact_lock')
  const { rows } = await sql<{ locked: boolean }>`select ${lock}(${KEY_SQL}) as locked`.execute(db)
  return rows[0]?.locked === true
}

/**
 * Gives Kysely's Migrator a migration lock that cannot outlive a transaction (held by a second
 * connection's open transaction), for transaction-mode poolers and `@vercel/postgres-kysely`,
 * where Kysely's session lock can be stranded on a pooled backend.
 *
 * @example
 * ```ts
 * import { createKysely } from '@vercel/postgres-kysely'
 * import { Migrator } from 'kysely/migration'
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

class TransactionScopedMigrationLockAdapter extends MigrationLockAdapter {
  readonly #pool: Kysely<unknown>
  readonly #options: TransactionScopedMigrationLockOptions
  // The Migrator passes the same `db` to acquire and release: one held lock per run.
  readonly #held = new WeakMap<object, HeldLock>()

  constructor(inner: DialectAdapter, pool: Kysely<any>, options: TransactionScopedMigrationLockOptions) {
    super(inner)
    this.#pool = pool
    this.#options = Object.freeze({ ...options })
  }

  override async acquireMigrationLock(db: Kysely<unknown>, _options: MigrationLockOptions): Promise<void> {
    const deadline = Date.now() + (this.#options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS)
    if (db.isTransaction) {
      // The Migrator was handed a transaction: its end is the unlock.
      await pollForLock(db, deadline, () => tryAdvisoryLock(db, 'transaction'))
      return
    }
    if (this.#pool.isTransaction) {
      throw new TypeError(
        'withTransactionScopedMigrationLock: a wrapped transaction must be handed to the Migrator itself',
      )
    }
    const session = await openLockSession(this.#pool)
    try {
      await pollForLock(session.db, deadline, async () => {
        await sql`begin`.execute(session.db)
        if (await tryAdvisoryLock(session.db, 'transaction')) return true
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
