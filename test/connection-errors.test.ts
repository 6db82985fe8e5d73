import { sql, type Kysely } from 'kysely'
import type pg from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'

import { GuardedPool } from '../src/connect/index.js'
import { createTestDatabase, resolveTestServer } from '../src/testing/index.js'
import { connectClient } from '../src/testing/test-server.js'
import { needsServer } from './support/needs-server.js'

// A connection the server ends (DROP DATABASE … WITH (FORCE), pg_terminate_backend, a restart)
// must surface, at most, as the next query's error: never as an uncaught exception or an
// unhandled rejection of the process using the pool, here the test process itself.
const server = await resolveTestServer()

/** Every uncaught exception and unhandled rejection of this process while a test runs. */
const escaped: string[] = []
const record = (error: unknown): void => {
  const { code, message } = error as { code?: string; message?: string }
  escaped.push(`${code ?? ''} ${message ?? String(error)}`)
}
beforeEach(() => {
  escaped.length = 0
  process.on('uncaughtException', record)
  process.on('unhandledRejection', record)
})
afterEach(() => {
  process.off('uncaughtException', record)
  process.off('unhandledRejection', record)
})

const admin = server.adminUrl ? await connectClient(server.adminUrl) : undefined
afterAll(() => admin?.end())

/** Opens `count` connections of `db`'s pool at once (they stay in the pool, idle). */
async function openIdle(db: Kysely<any>, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => sql`select pg_sleep(0.05)`.execute(db)))
}

/** Backend pids on `database`, other than this admin session. */
async function backendsOn(database: string): Promise<number[]> {
  const { rows } = await admin!.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [database],
  )
  return rows.map((r) => r.pid)
}

/**
 * Terminates `pids` and returns once their backends have exited (bounded) and this process
 * has had the chance to read what they sent before closing.
 */
async function terminate(pids: readonly number[]): Promise<void> {
  await admin!.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids])
  for (let waited = 0; waited < 10_000; waited += 20) {
    const { rows } = await admin!.query('select 1 from pg_stat_activity where pid = any($1::int[])', [pids])
    if (rows.length === 0) break
    await new Promise((r) => setTimeout(r, 20))
  }
  // The backends are gone, so their last message and the end of their sockets are in this
  // process's receive buffers: a timer lets the event loop read them.
  await new Promise((r) => setTimeout(r, 50))
}

describe.skipIf(needsServer(server, 'pools and clients whose connections the server ends'))(
  'pools and clients whose connections the server ends',
  () => {
    it('GuardedPool: end() resolves once the server has closed every connection', async () => {
      const database = await server.createDatabase()
      try {
        const pool = new GuardedPool({ connectionString: database.url, max: 4 })
        const clients: pg.PoolClient[] = []
        const closed = new Set<pg.PoolClient>()
        pool.on('connect', (client) => {
          clients.push(client)
          client.on('end', () => closed.add(client))
        })
        await Promise.all(Array.from({ length: 4 }, () => pool.query('select pg_sleep(0.05)')))
        expect(clients).toHaveLength(4)
        await pool.end()
        // node-postgres' own end() resolves before any socket can have closed.
        expect(closed.size).toBe(4)
      } finally {
        await database.destroy()
      }
    })

    it('server.createDatabase(): an idle connection terminated, then destroy() with connections open', async () => {
      for (let round = 0; round < 4; round++) {
        const database = await server.createDatabase()
        await openIdle(database.db, 4)
        await terminate((await backendsOn(database.name)).slice(0, 1))
        // The pool replaced the dead connection: the next queries work.
        await openIdle(database.db, 4)
        await database.destroy()
      }
      expect(escaped).toEqual([])
    })

    it('createTestDatabase(): the same, on a migrated clone', async () => {
      for (let round = 0; round < 4; round++) {
        const t = await createTestDatabase()
        await openIdle(t.db, 4)
        await terminate((await backendsOn(t.name)).slice(0, 1))
        await openIdle(t.db, 4)
        await t.destroy()
      }
      expect(escaped).toEqual([])
    })

    it('a connection checked out and idle when the server ends it fails the next query only', async () => {
      const database = await server.createDatabase()
      try {
        const failure = await database.db.connection().execute(async (connection) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(connection)
          await terminate([rows[0]!.pid])
          return sql`select 1`.execute(connection).then(
            () => undefined,
            (error: unknown) => error,
          )
        })
        expect(failure).toBeInstanceOf(Error)
        expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([{ one: 1 }])
      } finally {
        await database.destroy()
      }
      expect(escaped).toEqual([])
    })

    it('connectClient(): a client the server ends while idle', async () => {
      const database = await server.createDatabase()
      const client = await connectClient(database.url!)
      try {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
        await terminate([rows[0]!.pid])
        await expect(client.query('select 1')).rejects.toThrow()
      } finally {
        await client.end().catch(() => {})
        await database.destroy()
      }
      expect(escaped).toEqual([])
    })
  },
)
