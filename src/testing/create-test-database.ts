import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type Transaction } from 'kysely'
import pg from 'pg'

import { openPglite } from '../connect/open-pglite.js'
import { MigrationRunner } from '../runner/migration-runner.js'
import { DEFAULT_MIGRATION_FOLDER } from '../provider/package-migration-folder.js'
import type { Database } from '../schema-types/database.js'
import { registerVectorType, VectorPlugin } from '../schema-types/vector.js'
import { guardConnectionErrors } from '../connect/guard-connection-errors.js'
import { GuardedPool } from '../connect/guarded-pool.js'
import { ClonePool, dropOrphanedClones, type CloneStrategy } from './clone-pool.js'
import { reapAtExit } from './exit-reaper.js'
import { BUILDING_PREFIX, cloneName, currentOwner } from './owner-marker.js'
import { migrationDigest } from './template-digest.js'
import {
  connectClient,
  quoteIdent,
  resolveTestServer,
  withDatabase,
  type TestServer,
  type TestTier,
} from './test-server.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'

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
  /**
   * Closes `db` and drops the database (or closes the PGlite copy). On a server it returns
   * without waiting for the drop, which `closeTestDatabases()` awaits; the drop happens once
   * the server has closed `db`'s connections, and ends any other session still on the
   * database (`WITH (FORCE)`): close clients of your own first, or give them an `'error'` listener.
   */
  destroy(): Promise<void>
}

/** Options of {@link createTestDatabase}. */
export interface CreateTestDatabaseOptions {
  /** Default: the package's own migrations (the Wukong schema). */
  readonly migrationFolder?: string | undefined
  /**
   * `'pglite'` forces the embedded tier even when a server is configured (e.g. to test code
   * that must also run on PGlite). Default: the tier `resolveTestServer()` found.
   */
  readonly tier?: 'pglite' | undefined
  /**
   * How the server copies the template (PostgreSQL ≥ 15; ignored before): `WAL_LOG` copies
   * block by block through the WAL, `FILE_COPY` copies files and forces two checkpoints per
   * clone. Clones are made ahead of time, so this changes how fast the pool refills, not how
   * fast a database is handed out. Default {@link DEFAULT_CLONE_STRATEGY}.
   */
  readonly cloneStrategy?: CloneStrategy | undefined
  /** Pool size of `db`. Default 4. */
  readonly max?: number | undefined
  /**
   * Clones of the template kept ready, made in the background (one pool per server, folder
   * and strategy, sized by its first call). Default {@link DEFAULT_TEST_DATABASE_POOL_SIZE}.
   */
  readonly poolSize?: number | undefined
  /** Bound of each server call (connect, clone, drop). Default {@link DEFAULT_TEST_DATABASE_TIMEOUT_MS}. */
  readonly timeoutMs?: number | undefined
}

/**
 * A fresh database with the Wukong schema, isolated from every other call, from the same
 * three tiers as this package's tests (`TEST_DATABASE_URL`, else a Docker engine, else the
 * embedded PGlite; see `resolveTestServer`).
 *
 * On a server, the migration folder is migrated once into a template database and each call
 * clones it (`CREATE DATABASE … TEMPLATE`), which costs a fraction of migrating. The template
 * is named after a digest of the files' checksums and the package version
 * (`wk_template_<digest>`): every process and run with the same files shares it, and nobody can
 * connect to it (a session on a template makes cloning fail). `dropTestTemplates()` removes
 * them. Every call checks the folder first (a stat of each file; the files are read again only
 * when one changed): a file added, edited or removed since the last call, even in the same
 * long-lived process (`vitest --watch`), makes a new template, and clones of the old one are
 * not handed out.
 *
 * Clones are made ahead of time: a small pool of them is kept ready in the background, so a
 * call takes one (with a connection already open) and the next is started. `destroy()`
 * returns at once and drops the database in the background; {@link closeTestDatabases}
 * waits for those drops. Every clone's name carries its process's id and start time
 * (`wk_t_<host><boot>_<pid>_<start>_<random>`). A process that ends normally drops its clones
 * as it exits (when its event loop empties, on `process.exit()`, on SIGTERM or SIGINT, as
 * test runners stop their workers); the first call in a process drops the clones of processes
 * on this host that are gone without doing so (killed or crashed). On PGlite, the schema is
 * migrated once per process (again when a file changes) and each call boots an instance from a
 * copy of that data directory.
 *
 * @example
 * ```ts
 * import { afterAll, it } from 'vitest'
 * import { createTestDatabase } from '@wukong/adapter-vercel/testing'
 *
 * // At the top of the file: if there is no database, the file fails with that one error.
 * const t = await createTestDatabase()
 * afterAll(() => t.destroy())
 *
 * it('stores a session', async () => {
 *   await t.db.insertInto('sessions').values({ id: 's1', goal: 'test' }).execute()
 * })
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
 * Runs `body` in a transaction that is always rolled back, and returns what `body` returned
 * (or rethrows what it threw): nothing it writes survives, so tests can share one migrated
 * database. The transaction sees its own writes, and constraints are checked as usual.
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
 * A `Kysely<Database>` on a URL that reads and writes `embedding` as `number[]` (the vector
 * type parser registered on its pool, `VectorPlugin` on), e.g. for a database a test built
 * some other way.
 *
 * @example
 * ```ts
 * const db = kyselyForUrl(url)
 * await db.selectFrom('knowledge_entities').select('embedding').execute() // number[] | null
 * await db.destroy()
 * ```
 */
export function kyselyForUrl(url: string, max = 4): Kysely<Database> {
  // A connection the server ends (DROP DATABASE … WITH (FORCE) in another test) must not crash
  // the process, and db.destroy() must mean closed before the database is dropped.
  const pool = new GuardedPool({ connectionString: url, max })
  registerVectorType(pool)
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new VectorPlugin()] })
}

/**
 * Drops every template `createTestDatabase()` made on the test server (all processes, all
 * schema versions), e.g. in a vitest `globalSetup` teardown or by hand. A running suite that
 * still clones from one fails, so call it when no tests run.
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
  const admin = await connectClient(server.adminUrl)
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like 'wk\\_template\\_%' or datname like 'wk\\_building\\_%'`,
    )
    for (const { datname } of rows) {
      await admin.query(`ALTER DATABASE ${quoteIdent(datname)} WITH IS_TEMPLATE false`)
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`)
    }
    return rows.map((r) => r.datname)
  } finally {
    await admin.end()
  }
}

/** Per server and folder: the template of the files as they were last seen. */
const templates = new Map<string, { readonly digest: string; readonly name: Promise<string> }>()

const DEFAULT_MAX = 4

/**
 * The clone strategy `createTestDatabase()` uses unless told otherwise, chosen by measuring
 * both on PostgreSQL 15 (bench/RESULTS.md, W4): for the small Wukong template `FILE_COPY`
 * cloned faster than `WAL_LOG` in each of five runs (1.05–1.6×), which is how fast the pool
 * refills; a hand-out does not wait for either. Its
 * two checkpoints per clone were measured on a test server (fsync off); where checkpoints are
 * expensive for other sessions, pass `cloneStrategy: 'WAL_LOG'`.
 */
export const DEFAULT_CLONE_STRATEGY: CloneStrategy = 'FILE_COPY'

function kyselyOnPool(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new VectorPlugin()] })
}

/** Clones kept ready per template when `poolSize` is not given. */
export const DEFAULT_TEST_DATABASE_POOL_SIZE = 2

/** Bound of each server call `createTestDatabase()` makes (connect, clone, drop), in ms. */
export const DEFAULT_TEST_DATABASE_TIMEOUT_MS = 60_000

/** One pool of clones per server, folder and strategy. */
const clonePools = new Map<string, ClonePool>()
/** Every pool this process made, closed ones too: a clone handed out outlives its pool's close(). */
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
    // Once per server and process: drop what processes that are gone left behind, in the
    // background (the first clone does not wait for it; closeTestDatabases() does).
    if (!sweeps.has(adminUrl))
      sweeps.set(
        adminUrl,
        dropOrphanedClones(adminUrl, timeoutMs).catch(() => []),
      )
    pool = new ClonePool({
      adminUrl,
      template: () => templateFor(adminUrl, folder),
      strategy,
      size: options.poolSize ?? DEFAULT_TEST_DATABASE_POOL_SIZE,
      timeoutMs,
      max: DEFAULT_MAX,
    })
    clonePools.set(key, pool)
    everyPool.add(pool)
    registerExitHooks()
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
        // The clone's own pool is ended and the database dropped in the background.
        pool.release(clone)
      })()
      return destroyed
    },
  })
}

/**
 * Waits for every test database dropped by `destroy()` to be gone, drops the clones kept
 * ready and stops making more; also drops what processes that are gone left behind. Call it
 * at the end of a run (e.g. in a vitest `afterAll` or `globalSetup` teardown); a process
 * that exits without it leaves its clones to the next process's clean-up. Later calls of
 * `createTestDatabase()` start a new pool.
 *
 * @example
 * ```ts
 * afterAll(() => closeTestDatabases())
 * ```
 */
export async function closeTestDatabases(): Promise<void> {
  const pools = [...clonePools.values()]
  clonePools.clear()
  const pending = [...sweeps.values()]
  await Promise.all([...pools.map((p) => p.close()), ...pending])
}

// The template of the files as they are now: the folder is checked on every call (see
// migrationDigest), so a long-lived process never clones a template of files since changed.
function templateFor(adminUrl: string, folder: string): Promise<string> {
  const key = `${adminUrl}\n${folder}`
  const digest = migrationDigest(folder)
  const known = templates.get(key)
  if (known?.digest === digest) return known.name
  const name = ensureTemplate(adminUrl, folder, digest)
  const entry = { digest, name }
  templates.set(key, entry)
  name.catch(() => {
    if (templates.get(key) === entry) templates.delete(key)
  })
  return name
}

let exitHooks = false

function registerExitHooks(): void {
  if (exitHooks) return
  exitHooks = true
  // Once the event loop is empty (ready clones hold no reference to it), drop what is left;
  // 'beforeExit' fires again after that work, and then finds nothing to do.
  process.on('beforeExit', () => {
    if (clonePools.size > 0) void closeTestDatabases().catch(() => {})
  })
  // process.exit() and the signals a test runner stops its workers with leave no time for
  // that: what is left is handed to a process of its own.
  reapAtExit(() =>
    [...everyPool].flatMap((pool) =>
      pool.liveNames.length > 0 ? [{ adminUrl: pool.adminUrl, names: pool.liveNames }] : [],
    ),
  )
}

async function ensureTemplate(adminUrl: string, folder: string, digest: string): Promise<string> {
  const name = `wk_template_${digest}`
  const admin = await connectClient(adminUrl)
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name])
    if (exists.rowCount) return name
    // Build under a private name and publish it by renaming, so that no process ever clones
    // a half-migrated template; if two processes race, the loser drops its copy.
    // The owner marker lets a later process drop a copy this one could not finish.
    const building = cloneName(currentOwner(), BUILDING_PREFIX)
    await admin.query(`CREATE DATABASE ${quoteIdent(building)}`)
    try {
      // The runner opens its own pool and closes it before returning: a session left on
      // the template would make every clone wait 5 s and fail.
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
      // A file that changed while the runner read the folder: the copy holds neither version
      // for certain, so it is not published under this digest.
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
  } finally {
    await admin.end()
  }
}

// One migrated data directory per folder, as a tarball, of the files as they were last seen.
const pgliteTemplates = new Map<string, { readonly digest: string; readonly dump: Promise<Blob> }>()

async function clonePglite(folder: string): Promise<TestDatabase> {
  const digest = migrationDigest(folder)
  let entry = pgliteTemplates.get(folder)
  if (entry?.digest !== digest) {
    const made = { digest, dump: migratedPgliteDump(folder) }
    pgliteTemplates.set(folder, made)
    made.dump.catch(() => {
      if (pgliteTemplates.get(folder) === made) pgliteTemplates.delete(folder)
    })
    entry = made
  }
  const template = entry.dump
  // The embedded analogue of CREATE DATABASE … TEMPLATE: a new instance booted from the
  // migrated data directory. Measured here about 40% faster than PGlite's own clone(), and
  // it spares every call the migration.
  const copy = await openPglite('memory://', { loadDataDir: await template })
  const pool = await pglitePool(copy.pglite)
  registerVectorType(pool)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new VectorPlugin()] })
  return Object.freeze({
    db,
    url: undefined,
    name: 'pglite',
    tier: 'pglite' as const,
    async destroy() {
      await db.destroy()
      await copy.close()
    },
  })
}

/** A pg pool over one PGlite instance (one connection: PGlite is a single session). */
async function pglitePool(pglite: PGlite): Promise<pg.Pool> {
  const { createPgConfig } = await importAtRunTime<typeof import('@electric-sql/pglite/node-postgres')>(
    '@electric-sql/pglite/node-postgres',
  )
  return guardConnectionErrors(new pg.Pool(createPgConfig(pglite as never) as unknown as pg.PoolConfig))
}

async function migratedPgliteDump(folder: string): Promise<Blob> {
  const opened = await openPglite('memory://')
  try {
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: await pglitePool(opened.pglite) }) })
    try {
      await new MigrationRunner({ db, migrationFolder: folder, log: () => {} }).migrate()
    } finally {
      await db.destroy()
    }
    return await opened.pglite.dumpDataDir('none')
  } finally {
    await opened.close()
  }
}
