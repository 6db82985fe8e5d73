import { randomBytes } from 'node:crypto'

import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'

import { guardConnectionErrors } from '../connect/guard-connection-errors.js'
import { GuardedPool } from '../connect/guarded-pool.js'
import { openPglite } from '../connect/open-pglite.js'
import { redact } from '../connect/redact.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'
import { quoteIdent } from '../provider/sql-text.js'
import { withDatabase } from '../schema-diff/shadow-database.js'
import type { Database } from '../schema-types/database.js'
import { registerVectorType, VectorPlugin } from '../schema-types/vector.js'

export { withDatabase }

/** Where test databases come from: see {@link resolveTestServer}. */
export type TestTier = 'server' | 'container' | 'pglite'

/**
 * A PostgreSQL server (or the embedded PGlite) that hands out isolated databases.
 *
 * @example
 * ```ts
 * const server = await resolveTestServer()
 * const { db, destroy } = await server.createDatabase()
 * ```
 */
export interface TestServer {
  readonly tier: TestTier
  /** Where test databases come from, e.g. `test databases: server from TEST_DATABASE_URL (…)`. */
  readonly description: string
  /** Admin URL of the server; undefined for PGlite. */
  readonly adminUrl?: string | undefined
  /** Why suites that need a real server are skipped; undefined when there is one. */
  readonly skipReason?: string | undefined
  /** A fresh, empty database, dropped by `destroy()`. */
  createDatabase(options?: { readonly name?: string }): Promise<TestDatabaseHandle>
}

/** One isolated database. */
export interface TestDatabaseHandle {
  readonly name: string
  /** Connection URL; undefined for PGlite. */
  readonly url?: string | undefined
  readonly db: Kysely<any>
  /** Closes `db`, then drops the database `WITH (FORCE)`: close clients of your own first. */
  destroy(): Promise<void>
}

/**
 * No PostgreSQL server (no `TEST_DATABASE_URL`, no Docker engine) where one is required (`CI=true`).
 *
 * @example
 * ```ts
 * const server = await resolveTestServer().catch((error: unknown) => {
 *   if (error instanceof NoTestServerError) console.error(error.code) // 'NO_TEST_SERVER'
 *   throw error
 * })
 * ```
 */
export class NoTestServerError extends Error {
  override readonly name: string = 'NoTestServerError'
  readonly code = 'NO_TEST_SERVER'
}

let resolved: Promise<TestServer> | undefined

/**
 * Resolves the test server once per process: `TEST_DATABASE_URL`, else a Docker engine via testcontainers, else
 * embedded PGlite (or a {@link NoTestServerError}). Prints `server.description` on stderr unless `WUKONG_TEST_QUIET=1`.
 *
 * @example
 * ```ts
 * const server = await resolveTestServer()
 * it.skipIf(server.skipReason)('needs a real server', async () => {})
 * ```
 */
export function resolveTestServer(): Promise<TestServer> {
  resolved ??= resolve().then((server) => {
    if (process.env['WUKONG_TEST_QUIET'] !== '1') process.stderr.write(`${server.description}\n`)
    return server
  })
  return resolved
}

/**
 * True when suites must not skip for want of a server.
 *
 * @example
 * ```ts
 * if (serverRequired()) throw new Error('no server')
 * ```
 */
export function serverRequired(): boolean {
  return process.env['CI'] === 'true' || process.env['REQUIRE_PG_SERVER'] === '1'
}

async function resolve(): Promise<TestServer> {
  const url = process.env['TEST_DATABASE_URL']
  if (url) return serverAt('server', url, `server from TEST_DATABASE_URL (${redact(url)})`)
  const container = await startContainer()
  if (container)
    return serverAt('container', container, `a Docker container (${CONTAINER_IMAGE}, started by testcontainers)`)
  if (serverRequired()) {
    const why = process.env['CI'] === 'true' ? 'CI=true' : 'REQUIRE_PG_SERVER=1'
    throw new NoTestServerError(
      `no PostgreSQL server for tests: TEST_DATABASE_URL is not set and no Docker engine answered, and ${why} forbids ` +
        'the embedded PGlite; set TEST_DATABASE_URL to a server where its user may create databases',
    )
  }
  return Object.freeze({
    tier: 'pglite' as const,
    description:
      'test databases: embedded PGlite (no TEST_DATABASE_URL, no Docker engine); suites that need a server are skipped',
    skipReason: 'no PostgreSQL server (TEST_DATABASE_URL unset, no Docker engine): running on embedded PGlite',
    async createDatabase() {
      const { db, destroy } = await pgliteDatabase()
      await sql`select 1`.execute(db)
      return Object.freeze({ name: 'pglite', db, destroy })
    },
  })
}

const CONTAINER_IMAGE = 'pgvector/pgvector:pg15'

function serverAt(tier: TestTier, adminUrl: string, where: string): TestServer {
  return Object.freeze({
    tier,
    description: `test databases: ${where}`,
    adminUrl,
    async createDatabase(options: { name?: string } = {}) {
      const name = options.name ?? `wk_test_${randomBytes(6).toString('hex')}`
      await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(name)}`))
      const url = withDatabase(adminUrl, name)
      const db = kyselyForUrl(url)
      return Object.freeze({
        name,
        url,
        db,
        async destroy() {
          await db.destroy()
          await withClient(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`))
        },
      })
    },
  })
}

/** With `timeoutMs`, the connection and every query are bounded by it. */
export async function withClient<T>(
  url: string,
  body: (client: pg.Client) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const client = await connectClient(url, timeoutMs)
  try {
    return await body(client)
  } finally {
    await client.end().catch(() => {})
  }
}

// Guarded: a server that ends the connection cannot crash the process.
export async function connectClient(url: string, timeoutMs?: number): Promise<pg.Client> {
  const bounds = timeoutMs && {
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1_000,
  }
  const client = guardConnectionErrors(new pg.Client({ connectionString: url, ...bounds }))
  await client.connect()
  return client
}

/**
 * A `Kysely<Database>` on a URL that reads and writes `embedding` as `number[]`.
 *
 * @example
 * ```ts
 * const db = kyselyForUrl(url)
 * await db.selectFrom('knowledge_entities').select('embedding').execute() // number[] | null
 * await db.destroy()
 * ```
 */
export function kyselyForUrl(url: string, max = 4): Kysely<Database> {
  // Guarded: a drop's FORCE cannot crash the process, and destroy() waits for the server.
  const pool = new GuardedPool({ connectionString: url, max })
  registerVectorType(pool)
  return kyselyOnPool(pool)
}

export function kyselyOnPool(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new VectorPlugin()] })
}

async function startContainer(): Promise<string | undefined> {
  if (process.env['WUKONG_TEST_NO_DOCKER'] === '1') return undefined
  try {
    const { getContainerRuntimeClient } = await importAtRunTime<typeof import('testcontainers')>('testcontainers')
    await getContainerRuntimeClient()
  } catch {
    return undefined // no Docker engine here
  }
  const { PostgreSqlContainer } =
    await importAtRunTime<typeof import('@testcontainers/postgresql')>('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer(CONTAINER_IMAGE).start()
  return container.getConnectionUri()
}

// An in-memory PGlite (from a dump, when given) behind one connection: PGlite is a single session.
export async function pgliteDatabase(loadDataDir?: Blob) {
  const opened = await openPglite('memory://', { loadDataDir })
  const { createPgConfig } = await importAtRunTime<typeof import('@electric-sql/pglite/node-postgres')>(
    '@electric-sql/pglite/node-postgres',
  )
  const pool = guardConnectionErrors(new pg.Pool(createPgConfig(opened.pglite) as unknown as pg.PoolConfig))
  registerVectorType(pool)
  const db = kyselyOnPool(pool)
  const destroy = async (): Promise<void> => {
    await db.destroy()
    await opened.close()
  }
  return { db, destroy, dump: (): Promise<Blob> => opened.pglite.dumpDataDir('none') }
}
