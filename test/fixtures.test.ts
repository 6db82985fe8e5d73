import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import {
  closeTestDatabases,
  createTestDatabase,
  resolveTestServer,
  withRollback,
  type TestDatabase,
} from '../src/testing/index.js'
import { connectClient } from '../src/testing/test-server.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
const made: TestDatabase[] = []
afterAll(async () => {
  await Promise.all(made.map((t) => t.destroy().catch(() => {})))
  await closeTestDatabases()
})

async function make(options?: Parameters<typeof createTestDatabase>[0]): Promise<TestDatabase> {
  const t = await createTestDatabase(options)
  made.push(t)
  return t
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = await connectClient(server.adminUrl!)
  try {
    return (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1
  } finally {
    await admin.end()
  }
}

const embedding = (x: number, y: number): number[] => [x, y, ...Array<number>(1534).fill(0)]

// On the PGlite tier every call boots an instance (seconds): the suite below covers it.
describe.skipIf(needsServer(server, `createTestDatabase() on the ${server.tier} tier`))(
  `createTestDatabase() on the ${server.tier} tier`,
  () => {
    it('hands out migrated databases, isolated from each other even when made concurrently', async () => {
      const [a, b] = await Promise.all([make(), make()])
      expect(a.name).not.toBe(b.name)
      for (const t of [a, b]) {
        const versions = await t.db
          .selectFrom('schema_versions')
          .select(['version', 'checksum'])
          .orderBy('version')
          .execute()
        expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5])
        expect(versions.every((v) => v.checksum !== null)).toBe(true)
      }
      await a.db.insertInto('sessions').values({ id: 'only-in-a', goal: 'isolation' }).execute()
      await b.db.insertInto('sessions').values({ id: 'only-in-b', goal: 'isolation' }).execute()
      expect(await a.db.selectFrom('sessions').select('id').execute()).toEqual([{ id: 'only-in-a' }])
      expect(await b.db.selectFrom('sessions').select('id').execute()).toEqual([{ id: 'only-in-b' }])
    })

    it('reads and writes embeddings as number[]', async () => {
      const { db } = await make()
      await db
        .insertInto('knowledge_entities')
        .values({ entity_id: 'k1', content: 'c', level: 'public', embedding: embedding(0.5, -0.25) })
        .execute()
      const row = await db.selectFrom('knowledge_entities').select('embedding').executeTakeFirstOrThrow()
      expect(row.embedding).toHaveLength(1536)
      expect(row.embedding!.slice(0, 3)).toEqual([0.5, -0.25, 0])
    })

    it('destroy() drops the database it made, and only that one (closeTestDatabases() awaits the drop)', async () => {
      const [a, b] = await Promise.all([createTestDatabase(), make()])
      expect(await databaseExists(a.name)).toBe(true)
      await a.destroy()
      await closeTestDatabases()
      expect(await databaseExists(a.name)).toBe(false)
      expect(await databaseExists(b.name)).toBe(true)
      expect(await b.db.selectFrom('sessions').select('id').execute()).toEqual([])
    })

    it('clones a template nobody can connect to, so clones never wait for its sessions', async () => {
      const t = await make()
      const admin = await connectClient(server.adminUrl!)
      try {
        const { rows } = await admin.query<{ datname: string; datistemplate: boolean; datallowconn: boolean }>(
          `select datname, datistemplate, datallowconn from pg_database where datname like 'wk\\_template\\_%'`,
        )
        expect(rows.length).toBeGreaterThan(0)
        expect(rows.every((r) => r.datistemplate && !r.datallowconn)).toBe(true)
      } finally {
        await admin.end()
      }
      expect(t.url).toContain(t.name)
    })

    it('withRollback runs the body in a transaction that is rolled back', async () => {
      const { db } = await make()
      const seen = await withRollback(db, async (trx) => {
        await trx.insertInto('sessions').values({ id: 's1', goal: 'rolled back' }).execute()
        return trx.selectFrom('sessions').select('id').execute()
      })
      expect(seen).toEqual([{ id: 's1' }])
      expect(await db.selectFrom('sessions').select('id').execute()).toEqual([])

      await expect(
        withRollback(db, async (trx) => {
          await trx.insertInto('sessions').values({ id: 's2', goal: 'x' }).execute()
          await trx.insertInto('sessions').values({ id: 's2', goal: 'duplicate' }).execute()
        }),
      ).rejects.toThrow(/duplicate key/)
      expect(await db.selectFrom('sessions').select('id').execute()).toEqual([])
    })

    it('measures what one call costs (create + destroy), reported, not asserted', async () => {
      await make() // the template exists from here on
      const samples: { create: number; destroy: number }[] = []
      for (let i = 0; i < 8; i++) {
        const started = performance.now()
        const t = await createTestDatabase()
        await sql`select 1`.execute(t.db)
        const created = performance.now()
        await t.destroy()
        samples.push({ create: created - started, destroy: performance.now() - created })
      }
      const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
      const create = median(samples.map((s) => s.create))
      const destroy = median(samples.map((s) => s.destroy))

      const { db } = await make()
      const rollbacks: number[] = []
      for (let i = 0; i < 50; i++) {
        const started = performance.now()
        await withRollback(db, (trx) =>
          trx
            .insertInto('sessions')
            .values({ id: `s${i}`, goal: 'x' })
            .execute(),
        )
        rollbacks.push(performance.now() - started)
      }
      console.log(
        `[fixtures] ${server.tier}: createTestDatabase() median ${create.toFixed(0)} ms (incl. first query), ` +
          `destroy() median ${destroy.toFixed(0)} ms (n=${samples.length}); withRollback() with one insert median ${median(rollbacks).toFixed(1)} ms (n=${rollbacks.length})`,
      )
      expect(create).toBeGreaterThan(0)
    })
  },
)

// PGlite boots in seconds: one test, a few checks, whatever tier the server resolved to.
describe('createTestDatabase({ tier: "pglite" })', () => {
  it('boots copies of a migrated PGlite: isolated with the schema and number[] embeddings', async () => {
    const booted = performance.now()
    const a = await make({ tier: 'pglite' })
    const first = performance.now() - booted
    const cloned = performance.now()
    const b = await make({ tier: 'pglite' })
    const second = performance.now() - cloned
    console.log(
      `[fixtures] pglite: first call ${first.toFixed(0)} ms (boot + migrate + dump + boot from it), later calls ${second.toFixed(0)} ms (boot from the migrated data directory)`,
    )
    expect(a.tier).toBe('pglite')
    expect(a.url).toBeUndefined()

    await a.db
      .insertInto('knowledge_entities')
      .values({ entity_id: 'k1', content: 'c', level: 'public', embedding: embedding(1, 0) })
      .execute()
    const row = await a.db.selectFrom('knowledge_entities').select(['entity_id', 'embedding']).executeTakeFirstOrThrow()
    expect(row.embedding!.slice(0, 2)).toEqual([1, 0])
    expect(await b.db.selectFrom('knowledge_entities').select('entity_id').execute()).toEqual([])
    expect((await b.db.selectFrom('schema_versions').select('version').execute()).map((r) => r.version)).toEqual([
      1, 2, 3, 4, 5,
    ])

    const seen = await withRollback(b.db, async (trx) => {
      await trx.insertInto('sessions').values({ id: 's1', goal: 'x' }).execute()
      return (await trx.selectFrom('sessions').select('id').execute()).length
    })
    expect(seen).toBe(1)
    expect(await b.db.selectFrom('sessions').select('id').execute()).toEqual([])
  })
})
