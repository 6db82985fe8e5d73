import pg from 'pg'

import { guardConnectionErrors } from '../connect/guard-connection-errors.js'
import { GuardedPool } from '../connect/guarded-pool.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'
import { registerVectorType } from '../schema-types/vector.js'
import { BUILDING_PREFIX, CLONE_PREFIX, cloneName, currentOwner, isOwnerGone, parseOwner } from './owner-marker.js'
import { quoteIdent, withDatabase } from './test-server.js'

/** How the server copies the template (PostgreSQL ≥ 15; older servers have one way). */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY'

/** Options of {@link ClonePool}. */
export interface ClonePoolOptions {
  readonly adminUrl: string
  /**
   * Resolves to the name of the template of the files as they are now, once it is migrated;
   * asked before every hand-out, so it must be cheap when nothing changed.
   */
  readonly template: () => Promise<string>
  readonly strategy: CloneStrategy
  /** Clones kept ready. */
  readonly size: number
  /** Bound of every server call (connect, CREATE DATABASE, DROP DATABASE), in ms. */
  readonly timeoutMs: number
  /** Pool size of the `pg.Pool` opened on each clone ahead of time. */
  readonly max: number
}

/** A clone handed out by {@link ClonePool.acquire}, with a pool already connected to it. */
export interface PooledClone {
  readonly name: string
  /** The template it was cloned from (its name carries the digest of its files). */
  readonly template: string
  readonly url: string
  readonly pool: pg.Pool
}

/**
 * Clones of a migrated template made ahead of time in the background, so that a test gets a
 * database in the time it takes to take one from a queue: after each hand-out the next clone
 * is started. Each clone's name carries the owner marker of this process (see
 * owner-marker.ts), so that a later process drops what a crashed one left behind, and each
 * clone comes with a `pg.Pool` that has already connected (and looked up the vector type).
 * Dropping is in the background too; {@link ClonePool.close} waits for every drop. A clone of
 * a template that is no longer the current one (a migration file changed since it was made) is
 * dropped instead of handed out.
 */
export class ClonePool {
  readonly #options: ClonePoolOptions
  /** Clones being made or ready, in hand-out order. */
  readonly #queue: Promise<PooledClone>[] = []
  readonly #background = new Set<Promise<void>>()
  /** Databases this pool created (or is creating) and has not dropped yet. */
  readonly #live = new Set<string>()
  #closed = false

  constructor(options: ClonePoolOptions) {
    this.#options = Object.freeze({ ...options })
  }

  /**
   * Takes the next clone of the current template (waiting for one when none is ready yet) and
   * starts making another; ready clones of an older template are dropped.
   */
  async acquire(): Promise<PooledClone> {
    const template = await this.#options.template()
    for (;;) {
      if (this.#closed)
        throw new Error('createTestDatabase: the pool of test databases is closed (closeTestDatabases() was called)')
      if (this.#queue.length === 0) this.#startOne()
      const next = this.#queue.shift()!
      // Refill once this one is made: a template or server that fails does not set off a
      // stream of failing clones in the background.
      next.then(
        () => this.#fill(),
        () => {},
      )
      const clone = await next
      if (clone.template === template) return clone
      this.release(clone)
    }
  }

  /** The server's admin URL. */
  get adminUrl(): string {
    return this.#options.adminUrl
  }

  /** Names of the databases this pool made and has not dropped yet (e.g. for a last-moment drop). */
  get liveNames(): readonly string[] {
    return [...this.#live]
  }

  /** Closes the clone's pool and drops it, in the background (see {@link ClonePool.close}). */
  release(clone: PooledClone): void {
    this.#track(
      (async () => {
        // The pool's sockets closed before the drop (a GuardedPool's end() waits for the
        // server), so the drop's FORCE has no session of ours to terminate; bounded, because
        // end() also waits for clients a test still has checked out, which FORCE then ends.
        await endPool(clone.pool, Math.min(this.#options.timeoutMs, RELEASE_WAIT_MS))
        await this.#drop(clone.name)
      })(),
    )
  }

  /** Whether anything is still being made or dropped. */
  get busy(): boolean {
    return this.#background.size > 0
  }

  /** Stops making clones, drops the ready ones and waits (bounded) for every pending drop. */
  async close(): Promise<void> {
    this.#closed = true
    for (const next of this.#queue.splice(0)) {
      this.#track(next.then((clone) => this.release(clone)))
    }
    while (this.#background.size > 0) await Promise.all([...this.#background])
  }

  #fill(): void {
    while (!this.#closed && this.#queue.length < this.#options.size) this.#startOne()
  }

  #startOne(): void {
    const made = this.#make()
    // Handled here so that a clone nobody takes cannot fail as an unhandled rejection; the
    // test that takes it still sees the error.
    this.#track(made.then(() => undefined))
    this.#queue.push(made)
  }

  async #make(): Promise<PooledClone> {
    const { adminUrl, strategy, timeoutMs, max } = this.#options
    const template = await this.#options.template()
    const name = cloneName(currentOwner())
    // Counted before CREATE: a process that ends during it may leave the database behind.
    this.#live.add(name)
    await withAdmin(adminUrl, timeoutMs, async (admin) => {
      const version = Number((await admin.query<{ v: string }>('show server_version_num')).rows[0]?.v)
      const clause = version >= 150000 ? ` STRATEGY ${strategy}` : ''
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}${clause}`)
          return
        } catch (error) {
          // 55006 "source database is being accessed by other users": PostgreSQL waits 5 s for
          // the template's sessions to leave before it says so. Nothing of ours connects to a
          // template (ALLOW_CONNECTIONS false), but a superuser's tool or autovacuum might.
          if (errorCode(error) !== SQLSTATE.OBJECT_IN_USE || attempt >= 3) throw error
        }
      }
    }).catch((error: unknown) => {
      this.#live.delete(name)
      throw error
    })
    const url = withDatabase(adminUrl, name)
    // Idle connections neither time out (the clone may wait a while before a test takes it)
    // nor keep the process alive.
    // A GuardedPool: a connection the server ends (a drop's FORCE) cannot crash the process,
    // whether it sits idle in the pool or a test still has it checked out.
    const pool = new GuardedPool({
      connectionString: url,
      max,
      idleTimeoutMillis: 0,
      allowExitOnIdle: true,
      connectionTimeoutMillis: timeoutMs,
    })
    registerVectorType(pool)
    try {
      const client = await pool.connect()
      try {
        // The vector type look-up runs on connect; wait for it on this client.
        await client.query('select 1')
      } finally {
        client.release()
      }
    } catch (error) {
      await endPool(pool, timeoutMs)
      this.#track(this.#drop(name))
      throw error
    }
    if (this.#closed) {
      await endPool(pool, timeoutMs)
      await this.#drop(name)
      throw new Error('createTestDatabase: the pool of test databases is closed (closeTestDatabases() was called)')
    }
    return Object.freeze({ name, template, url, pool })
  }

  async #drop(name: string): Promise<void> {
    await withAdmin(this.#options.adminUrl, this.#options.timeoutMs, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
    )
    this.#live.delete(name)
  }

  #track(work: Promise<unknown>): void {
    const done: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    )
    this.#background.add(done)
    void done.then(() => this.#background.delete(done))
  }
}

/**
 * Drops the databases of owners that are gone (see `isOwnerGone`): clones and half-built
 * templates that a crashed or killed process left on the server. Returns their names.
 */
export async function dropOrphanedClones(adminUrl: string, timeoutMs: number): Promise<string[]> {
  return withAdmin(adminUrl, timeoutMs, async (admin) => {
    const like = (prefix: string): string => `${prefix.replace(/_/g, '\\_')}%`
    const { rows } = await admin.query<{ datname: string }>(
      'select datname from pg_database where datname like $1 or datname like $2',
      [like(CLONE_PREFIX), like(BUILDING_PREFIX)],
    )
    const gone = rows
      .map((r) => r.datname)
      .filter((name) => {
        const owner = parseOwner(name)
        return owner !== undefined && isOwnerGone(owner)
      })
    const dropped: string[] = []
    for (const name of gone) {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
        dropped.push(name)
      } catch {
        // Another process sweeping at the same time, or a template being renamed: not ours to fix.
      }
    }
    return dropped
  })
}

async function withAdmin<T>(adminUrl: string, timeoutMs: number, body: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = guardConnectionErrors(
    new pg.Client({
      connectionString: adminUrl,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs + 1_000,
    }),
  )
  await admin.connect()
  try {
    return await body(admin)
  } finally {
    await admin.end().catch(() => {})
  }
}

// Longest wait, in ms, of a released clone's pool to close before the database is dropped.
const RELEASE_WAIT_MS = 10_000

async function endPool(pool: pg.Pool, timeoutMs: number): Promise<void> {
  // pool.end() waits for checked-out clients; a test that never released one must not hang
  // the drop (its FORCE ends those sessions anyway).
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    pool.end().catch(() => {}),
    new Promise<void>((resolve) => {
      // Not unref'd: the caller awaits this bound (see GuardedPool's end()).
      timer = setTimeout(resolve, timeoutMs)
    }),
  ])
  clearTimeout(timer)
}
