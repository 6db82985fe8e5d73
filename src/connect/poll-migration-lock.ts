import { sql, type Kysely } from 'kysely'

import { MigrationError } from '../errors/migration-error.js'
import { KYSELY_MIGRATION_LOCK_KEY } from '../provider/kysely-internals.js'
import { describeSession, type SessionSummary } from '../provider/session-summary.js'

/**
 * The advisory lock key of Kysely's `PostgresAdapter` (`pg_advisory_lock(3853314791062309107)`).
 * Ours is the same key, so our migrators, stock Kysely migrators (kysely-ctl) and any mix of
 * session and transaction locks exclude one another: PostgreSQL treats a session-level and a
 * transaction-level hold of one key as the same lock.
 */
export const MIGRATION_LOCK_KEY: bigint = KYSELY_MIGRATION_LOCK_KEY

export { DEFAULT_LOCK_WAIT_TIMEOUT_MS } from '../provider/migration-timeouts.js'

/** Reported to `onWait` while a migrator waits for the lock. */
export interface LockWait {
  readonly waitedMs: number
  /** Backend pid of the holder, when PostgreSQL shows it to this role. */
  readonly holderPid?: number | undefined
  /** The holder's `pg_stat_activity.state` (`idle` with no transaction on a pooled server is a stranded session lock). */
  readonly holderState?: string | undefined
  /** The holder's `application_name`. */
  readonly holderApplication?: string | undefined
}

/** How {@link pollForLock} waits. */
export interface LockPollOptions {
  readonly onWait?: ((wait: LockWait) => void) | undefined
}

const KEY_HIGH = Number(MIGRATION_LOCK_KEY >> 32n)
const KEY_LOW = Number(MIGRATION_LOCK_KEY & 0xffffffffn)
const FIRST_BACKOFF_MS = 20
const MAX_BACKOFF_MS = 500
const WAIT_REPORT_MS = 5_000

/**
 * Calls `tryLock` (one short non-blocking attempt) until it returns true or `deadline`
 * passes, then fails with `LOCK_TIMEOUT` naming the holder. Between attempts the waiter runs
 * no statement and holds no snapshot, so a holder's `CREATE INDEX CONCURRENTLY` (which waits
 * for every older snapshot to end) never waits for a waiter that waits for it.
 */
export async function pollForLock(
  db: Kysely<any>,
  deadline: number,
  options: LockPollOptions,
  tryLock: () => Promise<boolean>,
): Promise<void> {
  const started = Date.now()
  let backoff = FIRST_BACKOFF_MS
  let reported = started
  for (;;) {
    if (await tryLock()) return
    const now = Date.now()
    if (now >= deadline || (options.onWait && now - reported >= WAIT_REPORT_MS)) {
      const holder = await lockHolder(db).catch(() => undefined)
      if (now >= deadline) {
        const who = holder ? ` by ${describeSession(holder)}` : ''
        throw new MigrationError(
          'LOCK_TIMEOUT',
          `another migrator held the migration lock${who} for the ${now - started} ms this run waited; ` +
            'a holder that is idle on a pooled server connection is a stranded session lock (see docs/vercel.md in the package)',
        )
      }
      options.onWait?.({
        waitedMs: now - started,
        ...(holder
          ? {
              holderPid: holder.pid,
              holderState: holder.state ?? undefined,
              holderApplication: holder.applicationName ?? undefined,
            }
          : {}),
      })
      reported = now
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
