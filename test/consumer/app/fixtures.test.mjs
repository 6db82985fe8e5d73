// Another package's test suite, on the fixtures this package ships.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { WUKONG_MIGRATIONS } from '@wukong/adapter-vercel'
import { createTestDatabase, withRollback } from '@wukong/adapter-vercel/testing'

let t
beforeAll(async () => {
  t = await createTestDatabase()
})
afterAll(() => t?.destroy())

it('hands out a migrated database of its own', async () => {
  expect(t.tier).toBe('server')
  const versions = await t.db.selectFrom('schema_versions').select('version').orderBy('version').execute()
  expect(versions.map((v) => v.version)).toEqual(WUKONG_MIGRATIONS.map((m) => m.version))
  expect(versions.length).toBeGreaterThan(0)
})

it('rolls back what a test wrote', async () => {
  const count = () =>
    t.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
  await withRollback(t.db, async (trx) => {
    await trx.insertInto('sessions').values({ id: 's1', goal: 'test' }).execute()
    expect(await trx.selectFrom('sessions').selectAll().execute()).toHaveLength(1)
  })
  expect(Number((await count()).n)).toBe(0)
})

it('reads and writes embeddings as number[]', async () => {
  await withRollback(t.db, async (trx) => {
    const embedding = Array.from({ length: 1536 }, (_, i) => (i % 7) / 7)
    await trx
      .insertInto('knowledge_entities')
      .values({ entity_id: 'k1', content: 'x', level: 'public', embedding })
      .execute()
    const row = await trx.selectFrom('knowledge_entities').select('embedding').executeTakeFirstOrThrow()
    expect(row.embedding).toHaveLength(1536)
  })
})
