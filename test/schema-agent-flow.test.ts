import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cosineDistance } from '../src/index.js'
import type { KnowledgeLevel, NewKnowledgeEntity } from '../src/schema-types/index.js'
import { createTestDatabase, withRollback, type TestDatabase } from '../src/testing/index.js'

/** A unit vector of vector(1536) at `degrees` in the plane of the first two axes. */
function direction(degrees: number): number[] {
  const r = (degrees * Math.PI) / 180
  return [Math.cos(r), Math.sin(r), ...Array<number>(1534).fill(0)]
}

let t: TestDatabase
beforeAll(async () => {
  t = await createTestDatabase()
})
afterAll(() => t?.destroy())

describe('an agent run end to end through the typed API', () => {
  it('session → steps → parallel tool calls → fork with a sub-session → checkpoint → knowledge → feedback', async () => {
    const { db } = t

    // A session: only id and goal are required; the rest are the schema's defaults.
    const root = await db
      .insertInto('sessions')
      .values({
        id: 'root',
        goal: 'Compare vector indexes',
        user_id: 'u1',
        tools_config: { tools: ['search', 'browse'] },
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    expect(root).toMatchObject({
      status: 'active',
      depth: 0,
      agent_type: 'InteractiveAgent',
      is_running: true,
      is_deleted: false,
      last_compressed_step_id: -1,
    })
    expect(root.created_at).toBeInstanceOf(Date)
    expect(root.tools_config).toEqual({ tools: ['search', 'browse'] })

    // Its plan.
    await db
      .insertInto('todos')
      .values([
        { id: 't1', session_id: 'root', title: 'Search', order_index: 0 },
        { id: 't2', session_id: 'root', title: 'Summarise', order_index: 1, dependencies: JSON.stringify(['t1']) },
      ])
      .execute()
    const todos = await db
      .selectFrom('todos')
      .select(['id', 'dependencies', 'status'])
      .where('session_id', '=', 'root')
      .orderBy('order_index')
      .execute()
    expect(todos).toEqual([
      { id: 't1', dependencies: null, status: 'pending' },
      { id: 't2', dependencies: ['t1'], status: 'pending' },
    ])

    // Steps, numbered within the session; the second fans out into parallel tool calls.
    const [think, fanOut] = await db
      .insertInto('steps')
      .values([
        { session_id: 'root', step_number: 1, action: 'think', reasoning: 'Two searches at once' },
        {
          session_id: 'root',
          step_number: 2,
          action: 'parallel_tools',
          is_parallel: true,
          wait_strategy: 'all',
          parameters: { calls: 2 },
        },
      ])
      .returning(['id', 'status', 'is_parallel'])
      .execute()
    expect(think).toMatchObject({ status: 'pending', is_parallel: false })
    expect(fanOut).toMatchObject({ status: 'pending', is_parallel: true })

    await db
      .insertInto('parallel_tool_calls')
      .values([
        { step_id: fanOut!.id, tool_id: 'call_1', tool_name: 'search', parameters: { q: 'hnsw' } },
        { step_id: fanOut!.id, tool_id: 'call_2', tool_name: 'search', parameters: { q: 'ivfflat' } },
      ])
      .execute()
    await db
      .updateTable('parallel_tool_calls')
      .set({ status: 'completed', result: '12 results', progress_percentage: 100, completed_at: new Date() })
      .where('step_id', '=', fanOut!.id)
      .where('tool_id', '=', 'call_1')
      .execute()
    const calls = await db
      .selectFrom('parallel_tool_calls')
      .select(['tool_id', 'status', 'parameters', 'retry_count', 'max_retries'])
      .where('step_id', '=', fanOut!.id)
      .orderBy('tool_id')
      .execute()
    expect(calls).toEqual([
      { tool_id: 'call_1', status: 'completed', parameters: { q: 'hnsw' }, retry_count: 0, max_retries: 3 },
      { tool_id: 'call_2', status: 'pending', parameters: { q: 'ivfflat' }, retry_count: 0, max_retries: 3 },
    ])
    await db
      .updateTable('steps')
      .set({ status: 'completed', parallel_status: 'partial' })
      .where('id', '=', fanOut!.id)
      .execute()

    // A fork: the sub-agent runs as a session one level down, and the task links both.
    await db
      .insertInto('sessions')
      .values({
        id: 'sub',
        goal: 'Read the HNSW paper',
        parent_session_id: 'root',
        depth: 1,
        is_sub_agent: true,
        inherited_context: 'compare indexes',
      })
      .execute()
    await db
      .insertInto('fork_agent_tasks')
      .values({
        id: 'fork1',
        parent_session_id: 'root',
        parent_step_id: fanOut!.id,
        sub_session_id: 'sub',
        goal: 'Read the HNSW paper',
        depth: 1,
      })
      .execute()
    await db
      .updateTable('fork_agent_tasks')
      .set((eb) => ({
        status: 'completed',
        steps_executed: eb('steps_executed', '+', 3),
        result_summary: 'HNSW needs no training',
      }))
      .where('id', '=', 'fork1')
      .execute()
    const fork = await db
      .selectFrom('fork_agent_tasks as f')
      .innerJoin('sessions as s', 's.id', 'f.sub_session_id')
      .select(['f.status', 'f.steps_executed', 'f.max_steps', 'f.timeout_seconds', 's.depth', 's.parent_session_id'])
      .where('f.parent_session_id', '=', 'root')
      .executeTakeFirstOrThrow()
    expect(fork).toEqual({
      status: 'completed',
      steps_executed: 3,
      max_steps: 20,
      timeout_seconds: 300,
      depth: 1,
      parent_session_id: 'root',
    })

    // A checkpoint of the session's state.
    await db
      .insertInto('checkpoints')
      .values({
        id: 'cp1',
        session_id: 'root',
        name: 'after fan-out',
        checkpoint_type: 'auto',
        step_number: 2,
        session_state: { step: 2, todos: ['t1', 't2'], forks: ['fork1'] },
      })
      .execute()
    const checkpoint = await db
      .selectFrom('checkpoints')
      .select(['session_state', 'created_at'])
      .where('id', '=', 'cp1')
      .executeTakeFirstOrThrow()
    expect(checkpoint.session_state).toEqual({ step: 2, todos: ['t1', 't2'], forks: ['fork1'] })

    // Knowledge learnt in the session, with its embedding, then feedback on it.
    const knowledge = await db
      .insertInto('knowledge_entities')
      .values({
        entity_id: 'hnsw-no-training',
        source_session_id: 'root',
        content: 'HNSW indexes need no training data',
        embedding: direction(0),
        level: 'public',
        tags: JSON.stringify(['pgvector', 'hnsw']),
        metadata: { source: 'fork1' },
        is_indexed: true,
        confidence_score: 0.9,
      })
      .returning(['id', 'embedding', 'tags', 'usage_count', 'source_type'])
      .executeTakeFirstOrThrow()
    expect(knowledge.embedding!.slice(0, 2)).toEqual([1, 0])
    expect(knowledge).toMatchObject({ tags: ['pgvector', 'hnsw'], usage_count: 0, source_type: 'conversation' })

    await db
      .insertInto('knowledge_feedback')
      .values({
        knowledge_id: knowledge.id,
        user_id: 'u1',
        helpful: true,
        accuracy_rating: 5,
        session_id: 'root',
        used_in_step: 2,
      })
      .execute()
    await db
      .updateTable('knowledge_entities')
      .set((eb) => ({ usage_count: eb('usage_count', '+', 1), last_used_at: new Date() }))
      .where('id', '=', knowledge.id)
      .execute()
    const rated = await db
      .selectFrom('knowledge_entities as k')
      .innerJoin('knowledge_feedback as f', 'f.knowledge_id', 'k.id')
      .select(['k.entity_id', 'k.usage_count', 'f.helpful', 'f.accuracy_rating'])
      .executeTakeFirstOrThrow()
    expect(rated).toEqual({ entity_id: 'hnsw-no-training', usage_count: 1, helpful: true, accuracy_rating: 5 })

    // An embedding can be replaced in an UPDATE too (VectorPlugin rewrites the SET value).
    await db
      .updateTable('knowledge_entities')
      .set({ embedding: direction(90) })
      .where('id', '=', knowledge.id)
      .execute()
    const moved = await db
      .selectFrom('knowledge_entities')
      .select('embedding')
      .where('id', '=', knowledge.id)
      .executeTakeFirstOrThrow()
    expect(moved.embedding![0]).toBeCloseTo(0, 6)
    expect(moved.embedding![1]).toBeCloseTo(1, 6)
  })
})

describe('nearest neighbours by cosine distance', () => {
  // A database of its own: the agent run above leaves knowledge behind.
  let nn: TestDatabase
  beforeAll(async () => {
    nn = await createTestDatabase()
  })
  afterAll(() => nn?.destroy())

  const entity = (
    entity_id: string,
    degrees: number,
    level: KnowledgeLevel,
    flags: { indexed?: boolean; toRemove?: boolean } = {},
  ): NewKnowledgeEntity => ({
    entity_id,
    content: `${entity_id} at ${degrees}°`,
    embedding: direction(degrees),
    level,
    is_indexed: flags.indexed ?? true,
    is_to_remove: flags.toRemove ?? false,
  })

  const query = direction(0)
  const searchPublic = (db: TestDatabase['db']) =>
    db
      .selectFrom('knowledge_entities')
      .select(['entity_id', cosineDistance('embedding', query).as('distance')])
      // The partial index's predicate, written as the index says it.
      .where('level', '=', 'public')
      .where('is_indexed', '=', true)
      .where('is_to_remove', '=', false)
      .orderBy(cosineDistance('embedding', query))
      .limit(10)

  it('returns the public, indexed, live entries, nearest first', async () => {
    await withRollback(nn.db, async (trx) => {
      await trx
        .insertInto('knowledge_entities')
        .values([
          entity('p60', 60, 'public'),
          entity('p10', 10, 'public'),
          entity('p170', 170, 'public'),
          entity('p30', 30, 'public'),
          entity('p90', 90, 'public'),
          // Nearer than all of them, but each fails one of the predicates:
          entity('org1', 1, 'organization'),
          entity('user2', 2, 'user'),
          entity('unindexed3', 3, 'public', { indexed: false }),
          entity('removed4', 4, 'public', { toRemove: true }),
        ])
        .execute()

      const rows = await searchPublic(trx).execute()
      expect(rows.map((r) => r.entity_id)).toEqual(['p10', 'p30', 'p60', 'p90', 'p170'])
      // <=> is 1 − cos θ.
      for (const [i, r] of rows.entries())
        expect(r.distance).toBeCloseTo(1 - Math.cos(([10, 30, 60, 90, 170][i]! * Math.PI) / 180), 5)

      // The organization index's predicate selects the other level.
      const org = await trx
        .selectFrom('knowledge_entities')
        .select('entity_id')
        .where('level', '=', 'organization')
        .where('is_indexed', '=', true)
        .where('is_to_remove', '=', false)
        .orderBy((eb) => cosineDistance(eb.ref('embedding'), query))
        .limit(10)
        .execute()
      expect(org).toEqual([{ entity_id: 'org1' }])
    })
  })

  it('is answered from the partial HNSW index of public entries, however the flags are written', async () => {
    await withRollback(nn.db, async (trx) => {
      await trx
        .insertInto('knowledge_entities')
        .values([entity('p10', 10, 'public'), entity('org1', 1, 'organization')])
        .execute()
      // On a near-empty table a sequential scan is cheaper; forbid it to see which index fits.
      await sql`set local enable_seqscan = off`.execute(trx)
      const planOf = async (query: { explain(): Promise<Record<string, unknown>[]> }): Promise<string> =>
        (await query.explain()).map((row) => String(Object.values(row)[0])).join('\n')

      // `= $2` / `= $3` with true/false: bound parameters, which PostgreSQL's custom plan for an
      // unnamed statement sees as constants, so the partial predicate is proven.
      expect(await planOf(searchPublic(trx))).toContain('idx_knowledge_public_embedding_hnsw')
      // The spec's spelling, `is_indexed AND NOT is_to_remove`.
      const spelled = trx
        .selectFrom('knowledge_entities')
        .select('entity_id')
        .where('level', '=', 'public')
        .where(sql<boolean>`is_indexed and not is_to_remove`)
        .orderBy(cosineDistance('embedding', query))
        .limit(10)
      expect(await planOf(spelled)).toContain('idx_knowledge_public_embedding_hnsw')
      expect(await spelled.execute()).toEqual([{ entity_id: 'p10' }])
    })
  })
})
