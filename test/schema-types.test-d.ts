import type { Insertable, Kysely, Selectable } from 'kysely'
import { describe, expectTypeOf, test } from 'vitest'

import { cosineDistance, DATABASE_COLUMNS } from '../src/index.js'
import type {
  ColumnFactsOf,
  Database,
  DatabaseColumnFacts,
  ExecutionStatus,
  KnowledgeLevel,
  NewKnowledgeEntity,
  NewSession,
  NewStep,
  Nullable,
  Session,
  SessionsTable,
  SessionUpdate,
  Step,
} from '../src/schema-types/index.js'

// Compiled, never run: vitest's typecheck (vitest.config.ts) runs tsc over *.test-d.ts files.
// Every `@ts-expect-error` must meet an error, or the line itself is the error.
declare const db: Kysely<Database>
declare const query: number[]

describe('typed queries', () => {
  test('select, where and the row types', () => {
    const active = db.selectFrom('sessions').select(['id', 'goal']).where('status', '=', 'active').execute()
    expectTypeOf(active).resolves.toEqualTypeOf<{ id: string; goal: string }[]>()

    expectTypeOf<Session['goal']>().toEqualTypeOf<string>()
    expectTypeOf<Session['status']>().toEqualTypeOf<string | null>() // DEFAULT 'active', nullable as deployed
    expectTypeOf<Session['created_at']>().toEqualTypeOf<Date | null>()
    expectTypeOf<Session['tools_config']>().toEqualTypeOf<import('../src/index.js').JsonObject | null>()
    expectTypeOf<Step['status']>().toEqualTypeOf<ExecutionStatus | null>()
    expectTypeOf<Step['id']>().toEqualTypeOf<number>()
    expectTypeOf<Selectable<Database['knowledge_entities']>['level']>().toEqualTypeOf<string>() // no CHECK
    expectTypeOf<KnowledgeLevel>().toExtend<Insertable<Database['knowledge_entities']>['level']>()
    expectTypeOf<Selectable<Database['knowledge_entities']>['embedding']>().toEqualTypeOf<number[] | null>()
    expectTypeOf<Selectable<Database['knowledge_entities']>['tags']>().toEqualTypeOf<string[] | null>()
  })

  test('a misspelt column does not compile', () => {
    // @ts-expect-error 'gaol' is no column of sessions
    db.selectFrom('sessions').select(['id', 'gaol'])
    // @ts-expect-error nor in a where
    db.selectFrom('steps').selectAll().where('sesion_id', '=', 's1')
  })

  test('statuses are the CHECK constraint’s literals', () => {
    db.selectFrom('steps').selectAll().where('status', '=', 'timeout')
    // @ts-expect-error 'done' is not a step status (chk_step_status)
    db.selectFrom('steps').selectAll().where('status', '=', 'done')
    // @ts-expect-error nor a parallel tool call's (chk_parallel_status)
    db.updateTable('parallel_tool_calls').set({ status: 'cancelled' })
    // No CHECK on knowledge_entities.level: any text is a level the database can hold.
    db.selectFrom('knowledge_entities').selectAll().where('level', '=', 'team')
  })

  test('inserts: required columns, defaults optional', () => {
    const minimal: NewSession = { id: 's1', goal: 'find the bug' }
    db.insertInto('sessions').values(minimal)
    // @ts-expect-error goal is NOT NULL without a default
    db.insertInto('sessions').values({ id: 's1' })
    // @ts-expect-error as a NewSession too
    const missingGoal: NewSession = { id: 's1' }
    void missingGoal

    // serial ids and defaulted columns (status, created_at, …) may be left out
    const step: NewStep = { session_id: 's1', step_number: 1, action: 'think' }
    db.insertInto('steps').values(step).returning(['id', 'status'])

    const update: SessionUpdate = { status: 'completed', updated_at: new Date() }
    db.updateTable('sessions').set(update).where('id', '=', 's1')
  })

  test('jsonb writes what the driver serialises; vectors write number[]', () => {
    const entity: NewKnowledgeEntity = {
      entity_id: 'k1',
      content: 'pgvector orders by <=>',
      level: 'public',
      embedding: query,
      tags: JSON.stringify(['postgres']),
      metadata: { source: 'docs' },
    }
    db.insertInto('knowledge_entities').values(entity)
    // @ts-expect-error pg would send a bare array as a PostgreSQL array literal, not JSON
    db.insertInto('knowledge_entities').values({ ...entity, tags: ['postgres'] })
    // @ts-expect-error an embedding is numbers
    db.insertInto('knowledge_entities').values({ ...entity, embedding: 'x' })
  })

  test('cosineDistance takes vector columns only', () => {
    const nearest = db
      .selectFrom('knowledge_entities')
      .select(['entity_id', cosineDistance('embedding', query).as('distance')])
      .orderBy((eb) => cosineDistance(eb.ref('knowledge_entities.embedding'), query))
      .limit(5)
      .execute()
    expectTypeOf(nearest).resolves.toEqualTypeOf<{ entity_id: string; distance: number }[]>()
    // @ts-expect-error content is text, not a vector
    db.selectFrom('knowledge_entities').orderBy((eb) => cosineDistance(eb.ref('content'), query))
    // @ts-expect-error by name, only the vector column
    cosineDistance('content', query)
  })
})

describe('DATABASE_COLUMNS, the single source of truth for the catalog check', () => {
  test('agrees with the types exactly', () => {
    expectTypeOf(DATABASE_COLUMNS).toExtend<DatabaseColumnFacts>()
    expectTypeOf(DATABASE_COLUMNS.sessions.goal).toEqualTypeOf<readonly ['string', false, false]>()
    expectTypeOf(DATABASE_COLUMNS.steps.id).toEqualTypeOf<readonly ['number', false, true]>()
  })

  test('a deliberately wrong column in the types does not compile', () => {
    // Someone makes sessions.goal nullable in the types only.
    type WrongDatabase = Omit<Database, 'sessions'> & {
      sessions: Omit<SessionsTable, 'goal'> & { goal: Nullable<string> }
    }
    expectTypeOf<Insertable<WrongDatabase['sessions']>>().toExtend<{ id: string }>()
    // @ts-expect-error DATABASE_COLUMNS (and so the database) says goal is NOT NULL
    const facts: ColumnFactsOf<WrongDatabase> = DATABASE_COLUMNS
    void facts
  })

  test('a deliberately wrong DATABASE_COLUMNS entry does not compile', () => {
    const wrong = {
      ...DATABASE_COLUMNS,
      sessions: { ...DATABASE_COLUMNS.sessions, depth: ['string', true, true] },
    } as const
    // @ts-expect-error depth is a number in the types
    const facts: DatabaseColumnFacts = wrong
    void facts
    const missing = { ...DATABASE_COLUMNS, todos: { id: ['string', false, false] } } as const
    // @ts-expect-error every column of todos must be listed
    const incomplete: DatabaseColumnFacts = missing
    void incomplete
  })
})
