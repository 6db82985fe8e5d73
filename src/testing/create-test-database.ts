import type { Kysely, Transaction } from 'kysely'

import { MigrationRunner } from '../runner/runner.js'
import { DEFAULT_MIGRATION_FOLDER } from '../provider/package-migration-folder.js'
import type { Database } from '../schema-types/database.js'
import { ClonePool, dropOrphanedClones, type CloneStrategy } from './clone-pool.js'
import { databasesNamed } from '../schema-diff/shadow-database.js'
import { reapAtExit } from './exit-reaper.js'
import { BUILDING_PREFIX, cloneName, currentOwner } from '../connect/owner-marker.js'
import { migrationDigest } from './template-digest.js'
import {
  kyselyForUrl,
  kyselyOnPool,
  pgliteDatabase,
  resolveTestServer,
  withDatabase,
  withClient,
  type TestServer,
  type TestTier,
} from './test-server.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'
import { quoteIdent } from '../provider/sql-text.js'

/**
 * A migrated database of its own, made by {@link createTestDatabase}.
 *
 * @example
 * ```ts
 * const { db, url, destroy } = await createTestDatabase()
 * ```
 */
export interface TestDatabase {
  /** Reads and writes `embedding` as `number[]` (type parser registered, `VectorPlugin` on). */
  readonly db: Kysely<Database>
  /** Connection URL, e.g. for a child process; undefined on the embedded PGlite tier. */
  readonly url: string | undefined
  /** The database's name on the server (`'pglite'` on the embedded tier). */
  readonly name: string
  readonly tier: TestTier
  /** Closes `db`, then drops the database `WITH (FORCE)` in the background (`closeTestDatabases()` awaits it). */
  destroy(): Promise<void>
}

/** Options of {@link createTestDatabase}. */
export interface CreateTestDatabaseOptions {
  /** Default: the package's own migrations (the Wukong schema). */
  readonly migrationFolder?: string | undefined
  /** `'pglite'` forces the embedded tier even when a server is configured. Default: `resolveTestServer()`'s. */
  readonly tier?: 'pglite' | undefined
  /** How the server copies the template (PostgreSQL ≥ 15). Default {@link DEFAULT_CLONE_STRATEGY}. */
  readonly cloneStrategy?: CloneStrategy | undefined
  /** Pool size of `db`. Default 4. */
  readonly max?: number | undefined
  /** Clones kept ready (per server, folder and strategy; its first call sizes it). Default {@link DEFAULT_TEST_DATABASE_POOL_SIZE}. */
  readonly poolSize?: number | undefined
  /** Bound of each server call (connect, clone, drop). Default {@link DEFAULT_TEST_DATABASE_TIMEOUT_MS}. */
  readonly timeoutMs?: number | undefined
}

/**
 * A fresh, isolated database with the Wukong schema: a clone of a template migrated once per set of files.
 *
 * @example
 * ```ts
 * const t = await createTestDatabase() // at the top of the file: no database, one error
 * afterAll(() => t.destroy())
 * it('stores a session', () => t.db.insertInto('sessions').values({ id: 's1', goal: 'test' }).execute())
 * ```
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const folder = options.migrationFolder ?? DEFAULT_MIGRATION_FOLDER
  if (options.tier === 'pglite') return clonePglite(folder)
  const server = await resolveTestServer()
  if (server.tier === 'pglite') return clonePglite(folder)
  return cloneTemplate(server, folder, options)
}

/**
 * Runs `body` in a transaction that is always rolled back, so tests can share one migrated database.
 *
 * @example
 * ```ts
 * it('counts sessions', () =>
 *   withRollback(t.db, async (trx) => {
 *     await trx.insertInto('sessions').values({ id: 's1', goal: 'x' }).execute()
 *     expect(await trx.selectFrom('sessions').selectAll().execute()).toHaveLength(1)
 *   }))
 * ```
 */
export async function withRollback<T>(
  db: Kysely<Database>,
  body: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const trx = await db.startTransaction().execute()
  try {
    return await body(trx)
  } finally {
    await trx.rollback().execute()
  }
}

/**
 * Drops every template `createTestDatabase()` made on the test server; call it when no tests run.
 *
 * @example
 * ```ts
 * // vitest.global-setup.ts
 * export async function teardown() { await dropTestTemplates() }
 * ```
 */
export async function dropTestTemplates(): Promise<string[]> {
  const server = await resolveTestServer()
  if (!server.adminUrl) return []
  await closeTestDatabases()
  templates.clear()
  return withClient(server.adminUrl, async (admin) => {
    const names = await databasesNamed(admin, [TEMPLATE_PREFIX, BUILDING_PREFIX])
    for (const name of names) {
      await admin.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE false`)
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
    }
    return names
  })
}

type Made<T> = Map<string, { readonly digest: string; readonly made: Promise<T> }>
const templates: Made<string> = new Map()

const DEFAULT_MAX = 4
const TEMPLATE_PREFIX = 'wk_template_'

/** Measured 1.05–1.6× faster than `WAL_LOG` for the Wukong template (bench/RESULTS.md, W4). */
export const DEFAULT_CLONE_STRATEGY: CloneStrategy = 'FILE_COPY'

/** Clones kept ready per template when `poolSize` is not given. */
export const DEFAULT_TEST_DATABASE_POOL_SIZE = 2

/** Bound of each server call `createTestDatabase()` makes (connect, clone, drop), in ms. */
export const DEFAULT_TEST_DATABASE_TIMEOUT_MS = 60_000

const clonePools = new Map<string, ClonePool>()
// Closed ones too: a clone handed out outlives its pool's close().
const everyPool = new Set<ClonePool>()
const sweeps = new Map<string, Promise<unknown>>()

async function cloneTemplate(
  server: TestServer,
  folder: string,
  options: CreateTestDatabaseOptions,
): Promise<TestDatabase> {
  const adminUrl = server.adminUrl!
  const timeoutMs = options.timeoutMs ?? DEFAULT_TEST_DATABASE_TIMEOUT_MS
  const strategy = options.cloneStrategy ?? DEFAULT_CLONE_STRATEGY
  const key = `${adminUrl}\n${folder}\n${strategy}`
  let pool = clonePools.get(key)
  if (!pool) {
    // Not awaited by the first clone; closeTestDatabases() awaits it.
    const sweep = () => dropOrphanedClones(adminUrl, timeoutMs).catch(() => [])
    if (!sweeps.has(adminUrl)) sweeps.set(adminUrl, sweep())
    pool = new ClonePool({
      adminUrl,
      // Checked on every call, so a long-lived process never clones a template of files since changed.
      template: () =>
        madeFor(templates, `${adminUrl}\n${folder}`, folder, (digest) => ensureTemplate(adminUrl, folder, digest)),
      strategy,
      size: options.poolSize ?? DEFAULT_TEST_DATABASE_POOL_SIZE,
      timeoutMs,
      max: DEFAULT_MAX,
    })
    clonePools.set(key, pool)
    if (everyPool.size === 0) {
      // Ready clones do not hold the event loop, so 'beforeExit' comes; it fires again after this work.
      process.on('beforeExit', () => {
        if (clonePools.size > 0) void closeTestDatabases().catch(() => {})
      })
      // process.exit() and signals leave no time for that: a process of its own drops what is left.
      reapAtExit(() => [...everyPool].map((p) => p.leftovers))
    }
    everyPool.add(pool)
  }
  const clone = await pool.acquire()
  // The clone's pool is already connected; a caller who wants another size gets a new one.
  const own = options.max !== undefined && options.max !== DEFAULT_MAX
  const db = own ? kyselyForUrl(clone.url, options.max) : kyselyOnPool(clone.pool)
  let destroyed: Promise<void> | undefined
  return Object.freeze({
    db,
    url: clone.url,
    name: clone.name,
    tier: server.tier,
    destroy() {
      destroyed ??= (async () => {
        if (own) await db.destroy().catch(() => {})
        pool.release(clone)
      })()
      return destroyed
    },
  })
}

/**
 * Waits for the drops `destroy()` started and drops the clones kept ready, at the end of a run.
 *
 * @example
 * ```ts
 * afterAll(() => closeTestDatabases())
 * ```
 */
export async function closeTestDatabases(): Promise<void> {
  const pools = [...clonePools.values()]
  clonePools.clear()
  await Promise.all([...pools.map((p) => p.close()), ...sweeps.values()])
}

// What was made from the files as they are now; a failure is forgotten, so the next call retries.
function madeFor<T>(cache: Made<T>, key: string, folder: string, make: (digest: string) => Promise<T>): Promise<T> {
  const digest = migrationDigest(folder)
  const known = cache.get(key)
  if (known?.digest === digest) return known.made
  const entry = { digest, made: make(digest) }
  cache.set(key, entry)
  entry.made.catch(() => {
    if (cache.get(key) === entry) cache.delete(key)
  })
  return entry.made
}

async function ensureTemplate(adminUrl: string, folder: string, digest: string): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${digest}`
  return withClient(adminUrl, async (admin) => {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name])
    if (exists.rowCount) return name
    // Renamed when done, so none clones it half-migrated; its owner marker lets a later sweep drop it.
    const building = cloneName(currentOwner(), BUILDING_PREFIX)
    await admin.query(`CREATE DATABASE ${quoteIdent(building)}`)
    try {
      // A session left on the template would make every clone wait 5 s and fail: close() first.
      const runner = new MigrationRunner({
        url: withDatabase(adminUrl, building),
        migrationFolder: folder,
        log: () => {},
      })
      try {
        await runner.migrate()
      } finally {
        await runner.close()
      }
      // A file changed while the runner read it: the copy holds neither version for certain.
      const now = migrationDigest(folder)
      if (now !== digest) {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`)
        return await ensureTemplate(adminUrl, folder, now)
      }
      await admin.query(`ALTER DATABASE ${quoteIdent(building)} WITH ALLOW_CONNECTIONS false`)
      await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`)
    } catch (error) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`)
      if (errorCode(error) !== SQLSTATE.DUPLICATE_DATABASE) throw error // 42P04: another process published first
      return name
    }
    await admin.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE true`)
    return name
  })
}

const pgliteTemplates: Made<Blob> = new Map()

async function clonePglite(folder: string): Promise<TestDatabase> {
  const template = madeFor(pgliteTemplates, folder, folder, async () => {
    const { db, destroy, dump } = await pgliteDatabase()
    try {
      await new MigrationRunner({ db, migrationFolder: folder, log: () => {} }).migrate()
      return await dump()
    } finally {
      await destroy()
    }
  })
  // Booting from a dump measured about 40% faster than PGlite's own clone().
  const { db, destroy } = await pgliteDatabase(await template)
  return Object.freeze({ db, url: undefined, name: 'pglite', tier: 'pglite' as const, destroy })
}
