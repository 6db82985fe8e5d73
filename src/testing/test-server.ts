import { randomBytes } from 'node:crypto'

import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'

/** Where test databases come from (see ENGINEERING.md, "Test database resolution"). */
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
  /** Admin URL of the server; undefined for PGlite. */
  readonly adminUrl?: string | undefined
  /** Why suites that need a real server are skipped; undefined when there is one. */
  readonly skipReason?: string | undefined
  /** A fresh, empty database (or a clone of `template`), dropped by `destroy()`. */
  createDatabase(options?: { readonly template?: string; readonly name?: string }): Promise<TestDatabaseHandle>
}

/** One isolated database. */
export interface TestDatabaseHandle {
  readonly name: string
  /** Connection URL; undefined for PGlite. */
  readonly url?: string | undefined
  readonly db: Kysely<any>
  destroy(): Promise<void>
}

let resolved: Promise<TestServer> | undefined

/**
 * Resolves the test server once per process: `TEST_DATABASE_URL`, else a Docker engine via
 * testcontainers (pgvector image), else embedded PGlite with pgvector. With `CI=true` or
 * `REQUIRE_PG_SERVER=1`, falling through to PGlite is an error.
 *
 * @example
 * ```ts
 * const server = await resolveTestServer()
 * it.skipIf(server.skipReason)('needs a real server', async () => {})
 * ```
 */
export function resolveTestServer(): Promise<TestServer> {
  resolved ??= resolve()
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
  if (url) return serverAt('server', url)
  const container = await startContainer()
  if (container) return serverAt('container', container)
  if (serverRequired()) {
    throw new Error('No PostgreSQL server for tests: set TEST_DATABASE_URL (CI=true / REQUIRE_PG_SERVER=1 forbid falling back to PGlite)')
  }
  return pgliteServer()
}

function serverAt(tier: TestTier, adminUrl: string): TestServer {
  return Object.freeze({
    tier,
    adminUrl,
    async createDatabase(options: { template?: string; name?: string } = {}) {
      const name = options.name ?? `wk_test_${randomBytes(6).toString('hex')}`
      const admin = new pg.Client({ connectionString: adminUrl })
      await admin.connect()
      try {
        const template = options.template ? ` TEMPLATE ${quoteIdent(options.template)}` : ''
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}${template}`)
      } finally {
        await admin.end()
      }
      const url = withDatabase(adminUrl, name)
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }) })
      return Object.freeze({
        name,
        url,
        db,
        async destroy() {
          await db.destroy()
          await dropDatabase(adminUrl, name)
        },
      })
    },
  })
}

/**
 * Drops a database, ending its other sessions first.
 *
 * @example
 * ```ts
 * await dropDatabase(adminUrl, 'wk_test_1234')
 * ```
 */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
  } finally {
    await admin.end()
  }
}

/**
 * The URL of another database on the same server.
 *
 * @example
 * ```ts
 * withDatabase('postgres://u@h:5432/postgres', 'app') // 'postgres://u@h:5432/app'
 * ```
 */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(database)}`
  return u.toString()
}

/**
 * Quotes a SQL identifier.
 *
 * @example
 * ```ts
 * quoteIdent('a"b') // '"a""b"'
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

async function startContainer(): Promise<string | undefined> {
  if (process.env['WUKONG_TEST_NO_DOCKER'] === '1') return undefined
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
  } catch {
    return undefined // no Docker engine here
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer('pgvector/pgvector:pg15').start()
  return container.getConnectionUri()
}

async function pgliteServer(): Promise<TestServer> {
  const [{ PGlite }, { vector }, { createPgConfig }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite/node-postgres'),
  ])
  return Object.freeze({
    tier: 'pglite' as const,
    skipReason: 'no PostgreSQL server (TEST_DATABASE_URL unset, no Docker engine): running on embedded PGlite',
    async createDatabase() {
      const pglite = await PGlite.create({ extensions: { vector } })
      const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig)
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
      await sql`select 1`.execute(db)
      return Object.freeze({
        name: 'pglite',
        db,
        async destroy() {
          await db.destroy()
          await pglite.close()
        },
      })
    },
  })
}
