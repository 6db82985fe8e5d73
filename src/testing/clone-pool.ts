import type pg from 'pg'

import { GuardedPool } from '../connect/guarded-pool.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'
import { registerVectorType } from '../schema-types/vector.js'
import { BUILDING_PREFIX, CLONE_PREFIX, cloneName, currentOwner } from '../connect/owner-marker.js'
import { quoteIdent } from '../provider/sql-text.js'
import { dropLeftoverDatabases } from '../schema-diff/shadow-database.js'
import type { Leftovers } from './exit-reaper.js'
import { withClient, withDatabase } from './test-server.js'

/** How the server copies the template (PostgreSQL ≥ 15; older servers have one way). */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY'

interface ClonePoolOptions {
  readonly adminUrl: string
  // Asked before every hand-out, so it must be cheap when nothing changed.
  readonly template: () => Promise<string>
  readonly strategy: CloneStrategy
  readonly size: number
  readonly timeoutMs: number
  readonly max: number
}

interface PooledClone {
  readonly name: string
  readonly template: string
  readonly url: string
  readonly pool: pg.Pool
}

// Clones made and dropped in the background, so a test takes a connected database from a queue.
export class ClonePool {
  readonly #options: ClonePoolOptions
  readonly #queue: Promise<PooledClone>[] = []
  readonly #background = new Set<Promise<void>>()
  // Created (or being created) and not dropped yet: what an exiting process must drop.
  readonly #live = new Set<string>()
  #closed = false

  constructor(options: ClonePoolOptions) {
    this.#options = Object.freeze({ ...options })
  }

  // Clones of an older template (a file changed) are dropped, not handed out.
  async acquire(): Promise<PooledClone> {
    const template = await this.#options.template()
    for (;;) {
      if (this.#closed) throw closedError()
      if (this.#queue.length === 0) this.#startOne()
      const next = this.#queue.shift()!
      // Refill only once this one is made: a failing server does not set off a stream of failures.
      next.then(() => this.#fill(), ignore)
      const clone = await next
      if (clone.template === template) return clone
      this.release(clone)
    }
  }

  /** What an exiting process must drop for this pool. */
  get leftovers(): Leftovers {
    return { adminUrl: this.#options.adminUrl, names: [...this.#live] }
  }

  release(clone: PooledClone): void {
    // Closed first, so FORCE ends no session of ours; bounded, as end() waits for checked-out clients.
    const ended = endPool(clone.pool, Math.min(this.#options.timeoutMs, RELEASE_WAIT_MS))
    this.#track(ended.then(() => this.#drop(clone.name)))
  }

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
    // A clone nobody takes must not fail as an unhandled rejection; its taker still sees the error.
    this.#track(made.then(() => undefined))
    this.#queue.push(made)
  }

  async #make(): Promise<PooledClone> {
    const { adminUrl, strategy, timeoutMs, max } = this.#options
    const template = await this.#options.template()
    const name = cloneName(currentOwner())
    // Counted before CREATE: a process that ends during it may leave the database behind.
    this.#live.add(name)
    const create = async (admin: pg.Client): Promise<void> => {
      const version = Number((await admin.query<{ v: string }>('show server_version_num')).rows[0]?.v)
      const clause = version >= 150000 ? ` STRATEGY ${strategy}` : ''
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}${clause}`)
          return
        } catch (error) {
          // 55006 after a 5 s wait: nothing of ours connects to a template, but autovacuum might.
          if (errorCode(error) !== SQLSTATE.OBJECT_IN_USE || attempt >= 3) throw error
        }
      }
    }
    await withClient(adminUrl, create, timeoutMs).catch((error: unknown) => {
      this.#live.delete(name)
      throw error
    })
    const url = withDatabase(adminUrl, name)
    // A clone may wait long for its test, yet must not keep the process alive; a drop's FORCE ends it.
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
      throw closedError()
    }
    return Object.freeze({ name, template, url, pool })
  }

  async #drop(name: string): Promise<void> {
    const drop = `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`
    await withClient(this.#options.adminUrl, (admin) => admin.query(drop), this.#options.timeoutMs)
    this.#live.delete(name)
  }

  #track(work: Promise<unknown>): void {
    const done: Promise<void> = work.then(ignore, ignore)
    this.#background.add(done)
    void done.then(() => this.#background.delete(done))
  }
}

// What crashed or killed processes left on the server.
export function dropOrphanedClones(adminUrl: string, timeoutMs: number): Promise<string[]> {
  return withClient(adminUrl, (admin) => dropLeftoverDatabases(admin, [CLONE_PREFIX, BUILDING_PREFIX]), timeoutMs)
}

const ignore = (): void => {}

const closedError = (): Error =>
  new Error('createTestDatabase: the pool of test databases is closed (closeTestDatabases() was called)')

const RELEASE_WAIT_MS = 10_000

async function endPool(pool: pg.Pool, timeoutMs: number): Promise<void> {
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
