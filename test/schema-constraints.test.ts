import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Database, ExecutionStatus } from '../src/schema-types/index.js'
import { createTestDatabase, withRollback, type TestDatabase } from '../src/testing/index.js'
import { wukongFilesUpTo } from './support/wukong-files.js'

let t: TestDatabase
beforeAll(async () => {
  t = await createTestDatabase()
})
afterAll(() => t?.destroy())

/** The SQLSTATE and constraint of a failed statement. */
async function violation(run: Promise<unknown>): Promise<{ code?: string; constraint?: string }> {
  try {
    await run
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string }
    return { code, constraint }
  }
  throw new Error('the statement succeeded')
}

/**
 * Runs `body` in a savepoint that is rolled back when it fails, so that one failed statement
 * does not abort the test's transaction.
 */
async function attempt<T>(trx: Kysely<Database>, body: () => Promise<T>): Promise<T> {
  await sql`savepoint attempt`.execute(trx)
  try {
    const result = await body()
    await sql`release savepoint attempt`.execute(trx)
    return result
  } catch (error) {
    await sql`rollback to savepoint attempt`.execute(trx)
    throw error
  }
}

// The schema specification transcribed by hand, one line per column: name, type, then "not null"
// and "default <value>" where the spec says so. Not generated from the migrations, so that a
// migration that drifts from the spec fails here.
const SPEC = `
sessions
  id varchar(255) not null
  goal text not null
  initial_goal text
  status varchar(50) default 'active'
  user_id varchar(255)
  api_key varchar(255)
  organization_id varchar(255)
  agent_type varchar(100) default 'InteractiveAgent'
  auto_run boolean default false
  tools_config jsonb
  parent_session_id varchar(255)
  depth integer default 0
  inherited_context text
  result_summary text
  is_sub_agent boolean default false
  last_compressed_step_id integer default -1
  compressed_summary text
  is_compressing boolean default false
  compressing_started_at timestamptz
  is_running boolean default true
  is_deleted boolean default false
  last_knowledge_extraction_at timestamptz
  share_secret_key varchar(255)
  created_at timestamptz default now()
  updated_at timestamptz default now()
steps
  id serial
  session_id varchar(255) not null
  step_number integer not null
  llm_prompt text
  llm_response text
  action varchar(100) not null
  reasoning text
  selected_tool varchar(255)
  parameters jsonb
  step_result text
  error_message text
  status varchar(50) default 'pending'
  discarded boolean default false
  is_parallel boolean default false
  wait_strategy varchar(50)
  parallel_status varchar(50)
  started_at timestamptz
  completed_at timestamptz
  execution_duration_ms integer
  created_at timestamptz default now()
  updated_at timestamptz default now()
todos
  id varchar(255) not null
  session_id varchar(255) not null
  title text not null
  description text
  order_index integer not null
  status varchar(50) default 'pending'
  dependencies jsonb
  priority integer default 0
  estimated_steps integer
  actual_steps integer default 0
  estimated_tokens integer
  actual_tokens integer default 0
  result jsonb
  error text
  started_at timestamptz
  completed_at timestamptz
  duration_seconds integer
  created_at timestamptz default now()
  updated_at timestamptz default now()
checkpoints
  id varchar(255) not null
  session_id varchar(255) not null
  name varchar(255)
  description text
  checkpoint_type varchar(50)
  session_state jsonb not null
  step_number integer
  created_at timestamptz default now()
parallel_tool_calls
  id serial
  step_id integer not null
  tool_id varchar(255) not null
  tool_name varchar(255) not null
  parameters jsonb not null
  status varchar(50) default 'pending'
  result text
  error_message text
  progress_percentage integer default 0
  status_message text
  external_task_id varchar(255)
  external_status varchar(100)
  started_at timestamptz
  completed_at timestamptz
  execution_duration_ms integer
  retry_count integer default 0
  max_retries integer default 3
  created_at timestamptz default now()
  updated_at timestamptz default now()
fork_agent_tasks
  id varchar(255) not null
  parent_session_id varchar(255) not null
  parent_step_id integer
  sub_session_id varchar(255)
  goal text not null
  context_summary text
  depth integer not null
  max_steps integer default 20
  timeout_seconds integer default 300
  status varchar(50) default 'pending'
  result_summary text
  error_message text
  steps_executed integer default 0
  tokens_used integer default 0
  tools_called integer default 0
  started_at timestamptz
  completed_at timestamptz
  execution_duration_ms integer
  retry_count integer default 0
  max_retries integer default 3
  created_at timestamptz default now()
  updated_at timestamptz default now()
knowledge_entities
  id serial
  entity_id varchar(255) not null
  source_session_id varchar(255)
  source_type varchar(50) default 'conversation'
  content text not null
  embedding vector(1536)
  level varchar(50) not null
  category varchar(100)
  tags jsonb
  confidence_score double precision default 0.5
  usage_count integer default 0
  last_used_at timestamptz
  user_id varchar(255)
  organization_id varchar(255)
  is_indexed boolean default false
  is_to_remove boolean default false
  index_updated_at timestamptz
  metadata jsonb
  session_time timestamptz
  created_at timestamptz default now()
  updated_at timestamptz default now()
knowledge_feedback
  id serial
  knowledge_id integer not null
  user_id varchar(255) not null
  helpful boolean
  accuracy_rating integer
  comment text
  session_id varchar(255)
  used_in_step integer
  created_at timestamptz default now()
`

/** The spec's lines in the catalog's words: `table.column: type [not null] [default x]`. */
function specColumns(): string[] {
  const out: string[] = []
  let table = ''
  for (const line of SPEC.split('\n')) {
    if (!line.trim()) continue
    if (!line.startsWith(' ')) {
      table = line.trim()
      continue
    }
    const match = /^\s+(\w+) (.+?)( not null)?( default .+)?$/.exec(line)!
    let type = match[2]!.replace(/^varchar/, 'character varying').replace(/^timestamptz$/, 'timestamp with time zone')
    let rest = `${match[3] ?? ''}${match[4] ?? ''}`
    // serial: integer NOT NULL DEFAULT nextval(…); a PRIMARY KEY is NOT NULL too (ids above).
    if (type === 'serial') [type, rest] = ['integer', ' not null default nextval']
    out.push(`${table}.${match[1]}: ${type}${rest}`)
  }
  return out
}

async function catalogColumns(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    select c.relname || '.' || a.attname || ': ' || format_type(a.atttypid, a.atttypmod)
           || case when a.attnotnull then ' not null' else '' end
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as line
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid and c.relkind = 'r'
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attnum > 0 and not a.attisdropped
      and c.relname not in ('schema_versions', 'kysely_migration', 'kysely_migration_lock')
    order by c.relname, a.attnum`.execute(db)
  return rows.map(({ line }) =>
    line
      .replace(/nextval\('\w+'::regclass\)$/, 'nextval')
      .replace(/::(character varying|integer|text)$/, '')
      .replace(/default '(-?\d+)'$/, 'default $1'),
  )
}

describe('migrations 001–004 against the spec', () => {
  it('have every column with its type, nullability and default', async () => {
    expect((await catalogColumns(t.db)).sort()).toEqual(specColumns().sort())
  })

  it('name the CHECK constraints as deployed and give each foreign key its ON DELETE', async () => {
    const { rows } = await sql<{ constraint: string }>`
      select conrelid::regclass || ' ' || conname || ' ' || case contype
               when 'f' then 'on delete ' || case confdeltype when 'c' then 'cascade' when 'n' then 'set null' when 'a' then 'no action' else confdeltype::text end
               else contype::text end as constraint
      from pg_constraint
      where connamespace = current_schema()::regnamespace and contype in ('c', 'f', 'u')
      order by 1`.execute(t.db)
    expect(rows.map((r) => r.constraint)).toEqual([
      'checkpoints checkpoints_session_id_fkey on delete cascade',
      'fork_agent_tasks fork_agent_tasks_parent_session_id_fkey on delete no action',
      'fork_agent_tasks fork_agent_tasks_parent_step_id_fkey on delete no action',
      'fork_agent_tasks fork_agent_tasks_sub_session_id_fkey on delete no action',
      'knowledge_entities chk_knowledge_confidence c',
      'knowledge_entities knowledge_entities_entity_id_key u',
      'knowledge_entities knowledge_entities_source_session_id_fkey on delete set null',
      'knowledge_feedback knowledge_feedback_knowledge_id_fkey on delete cascade',
      'knowledge_feedback knowledge_feedback_session_id_fkey on delete no action',
      'parallel_tool_calls chk_parallel_status c',
      'parallel_tool_calls parallel_tool_calls_step_id_fkey on delete cascade',
      'parallel_tool_calls parallel_tool_calls_step_id_tool_id_key u',
      'sessions chk_session_depth c',
      'sessions sessions_parent_session_id_fkey on delete no action',
      'sessions sessions_share_secret_key_key u',
      'steps chk_step_status c',
      'steps steps_session_id_fkey on delete cascade',
      'steps steps_session_id_step_number_key u',
      'todos todos_session_id_fkey on delete cascade',
    ])
  })

  it('have the indexes the spec lists, by their deployed names (besides primary keys and UNIQUE constraints)', async () => {
    const { rows } = await sql<{ def: string }>`
      select regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE INDEX (\\w+) ON \\w+\\.', '\\1 ') as def
      from pg_index i join pg_class c on c.oid = i.indrelid
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
      where not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`.execute(t.db)
    const normalised = rows
      .map((r) =>
        r.def
          .replace(/::\w+/g, '')
          .replace(/[()]/g, '')
          .replace(/ USING btree/, ''),
      )
      .sort()
    expect(normalised).toEqual(
      [
        'idx_sessions_user_id sessions user_id',
        'idx_sessions_parent_session_id sessions parent_session_id',
        'idx_sessions_status sessions status',
        'idx_sessions_is_running sessions is_running',
        'idx_sessions_depth sessions depth',
        'idx_sessions_share_key sessions share_secret_key WHERE share_secret_key IS NOT NULL',
        'idx_sessions_user_updated sessions user_id, updated_at DESC WHERE is_deleted = false',
        'idx_steps_session_id steps session_id',
        'idx_steps_status steps status',
        'idx_steps_is_parallel steps is_parallel',
        'idx_steps_discarded steps discarded',
        'idx_steps_action steps action',
        'idx_steps_session_active steps session_id, step_number WHERE discarded = false',
        'idx_todos_session_id todos session_id',
        'idx_todos_status todos status',
        'idx_todos_order todos session_id, order_index',
        'idx_checkpoints_session_id checkpoints session_id',
        'idx_checkpoints_created_at checkpoints created_at',
        'idx_parallel_calls_step_id parallel_tool_calls step_id',
        'idx_parallel_calls_status parallel_tool_calls status',
        'idx_parallel_calls_tool_id parallel_tool_calls tool_id',
        'idx_parallel_calls_external_task parallel_tool_calls external_task_id WHERE external_task_id IS NOT NULL',
        'idx_parallel_status_count parallel_tool_calls step_id, status',
        'idx_fork_tasks_parent_session fork_agent_tasks parent_session_id',
        'idx_fork_tasks_sub_session fork_agent_tasks sub_session_id',
        'idx_fork_tasks_status fork_agent_tasks status',
        'idx_fork_tasks_depth fork_agent_tasks depth',
        'idx_knowledge_entity_id knowledge_entities entity_id',
        'idx_knowledge_session knowledge_entities source_session_id',
        'idx_knowledge_level knowledge_entities level',
        'idx_knowledge_user knowledge_entities user_id WHERE user_id IS NOT NULL',
        'idx_knowledge_org knowledge_entities organization_id WHERE organization_id IS NOT NULL',
        'idx_knowledge_indexed knowledge_entities is_indexed',
        'idx_knowledge_to_remove knowledge_entities is_to_remove',
        // 004 builds the deployed ivfflat indexes; 005 replaces them with these.
        'idx_knowledge_embedding_hnsw knowledge_entities USING hnsw embedding vector_cosine_ops',
        "idx_knowledge_public_embedding_hnsw knowledge_entities USING hnsw embedding vector_cosine_ops WHERE level = 'public' AND is_indexed = true AND is_to_remove = false",
        "idx_knowledge_org_embedding_hnsw knowledge_entities USING hnsw embedding vector_cosine_ops WHERE level = 'organization' AND is_indexed = true AND is_to_remove = false",
        'idx_feedback_knowledge knowledge_feedback knowledge_id',
        'idx_feedback_user knowledge_feedback user_id',
      ].sort(),
    )
  })

  it('build the deployed ivfflat vector indexes at version 4 (005 converges them to HNSW)', async () => {
    const at4 = await createTestDatabase({ migrationFolder: await wukongFilesUpTo(4) })
    try {
      const { rows } = await sql<{ def: string }>`
        select pg_get_indexdef(indexrelid) as def from pg_index
        where indrelid = 'knowledge_entities'::regclass and pg_get_indexdef(indexrelid) like '%vector_cosine_ops%'
        order by 1`.execute(at4.db)
      expect(
        rows.map((r) =>
          r.def.replace(' ON public.knowledge_entities USING ivfflat (embedding vector_cosine_ops)', ' …'),
        ),
      ).toEqual([
        "CREATE INDEX idx_knowledge_embedding … WITH (lists='100')",
        "CREATE INDEX idx_knowledge_org_embedding … WHERE (((level)::text = 'organization'::text) AND (is_indexed = true) AND (is_to_remove = false))",
        "CREATE INDEX idx_knowledge_public_embedding … WHERE (((level)::text = 'public'::text) AND (is_indexed = true) AND (is_to_remove = false))",
      ])
    } finally {
      await at4.destroy()
    }
  })
})

describe('CHECK and UNIQUE constraints', () => {
  it('reject a session depth outside 0–10', () =>
    withRollback(t.db, async (trx) => {
      await trx.insertInto('sessions').values({ id: 'd10', goal: 'x', depth: 10 }).execute()
      for (const depth of [11, -1]) {
        const failed = await violation(
          attempt(trx, () =>
            trx
              .insertInto('sessions')
              .values({ id: `d${depth}`, goal: 'x', depth })
              .execute(),
          ),
        )
        expect(failed).toEqual({ code: '23514', constraint: 'chk_session_depth' })
      }
    }))

  it('reject an unknown step or tool-call status', () =>
    withRollback(t.db, async (trx) => {
      await trx.insertInto('sessions').values({ id: 's', goal: 'x' }).execute()
      // The types forbid it; the database must too, for code that is not typed.
      const unknown = 'done' as ExecutionStatus
      expect(
        await violation(
          attempt(trx, () =>
            trx.insertInto('steps').values({ session_id: 's', step_number: 1, action: 'a', status: unknown }).execute(),
          ),
        ),
      ).toEqual({
        code: '23514',
        constraint: 'chk_step_status',
      })
      const { id } = await trx
        .insertInto('steps')
        .values({ session_id: 's', step_number: 1, action: 'a', status: 'timeout' })
        .returning('id')
        .executeTakeFirstOrThrow()
      expect(
        await violation(
          attempt(trx, () =>
            trx
              .insertInto('parallel_tool_calls')
              .values({ step_id: id, tool_id: 'c', tool_name: 't', parameters: {}, status: unknown })
              .execute(),
          ),
        ),
      ).toEqual({ code: '23514', constraint: 'chk_parallel_status' })
    }))

  it('reject a confidence outside 0.0–1.0', () =>
    withRollback(t.db, async (trx) => {
      await trx
        .insertInto('knowledge_entities')
        .values({ entity_id: 'k1', content: 'c', level: 'user', confidence_score: 1.0 })
        .execute()
      for (const confidence_score of [1.5, -0.1]) {
        const failed = await violation(
          attempt(trx, () =>
            trx
              .insertInto('knowledge_entities')
              .values({ entity_id: `k${confidence_score}`, content: 'c', level: 'user', confidence_score })
              .execute(),
          ),
        )
        expect(failed).toEqual({ code: '23514', constraint: 'chk_knowledge_confidence' })
      }
    }))

  it('reject a step number or tool id used twice', () =>
    withRollback(t.db, async (trx) => {
      await trx.insertInto('sessions').values({ id: 's', goal: 'x' }).execute()
      const { id } = await trx
        .insertInto('steps')
        .values({ session_id: 's', step_number: 1, action: 'a' })
        .returning('id')
        .executeTakeFirstOrThrow()
      expect(
        await violation(
          attempt(trx, () =>
            trx.insertInto('steps').values({ session_id: 's', step_number: 1, action: 'b' }).execute(),
          ),
        ),
      ).toEqual({
        code: '23505',
        constraint: 'steps_session_id_step_number_key',
      })
      await trx
        .insertInto('parallel_tool_calls')
        .values({ step_id: id, tool_id: 'c', tool_name: 't', parameters: {} })
        .execute()
      expect(
        await violation(
          attempt(trx, () =>
            trx
              .insertInto('parallel_tool_calls')
              .values({ step_id: id, tool_id: 'c', tool_name: 't', parameters: {} })
              .execute(),
          ),
        ),
      ).toEqual({
        code: '23505',
        constraint: 'parallel_tool_calls_step_id_tool_id_key',
      })
    }))
})

describe('deleting', () => {
  async function seed(trx: Kysely<Database>): Promise<{ stepId: number; knowledgeId: number }> {
    await trx.insertInto('sessions').values({ id: 'root', goal: 'x' }).execute()
    const { id: stepId } = await trx
      .insertInto('steps')
      .values({ session_id: 'root', step_number: 1, action: 'a' })
      .returning('id')
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('parallel_tool_calls')
      .values({ step_id: stepId, tool_id: 'c', tool_name: 't', parameters: {} })
      .execute()
    await trx.insertInto('todos').values({ id: 't', session_id: 'root', title: 'x', order_index: 0 }).execute()
    await trx.insertInto('checkpoints').values({ id: 'cp', session_id: 'root', session_state: {} }).execute()
    const { id: knowledgeId } = await trx
      .insertInto('knowledge_entities')
      .values({ entity_id: 'k', source_session_id: 'root', content: 'c', level: 'public' })
      .returning('id')
      .executeTakeFirstOrThrow()
    await trx.insertInto('knowledge_feedback').values({ knowledge_id: knowledgeId, user_id: 'u' }).execute()
    return { stepId, knowledgeId }
  }

  const count = async (
    trx: Kysely<Database>,
    table: 'steps' | 'parallel_tool_calls' | 'todos' | 'checkpoints' | 'knowledge_feedback',
  ): Promise<number> =>
    Number(
      (
        await trx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )

  it('a session cascades to its steps (and their tool calls), todos and checkpoints, and unlinks its knowledge', () =>
    withRollback(t.db, async (trx) => {
      await seed(trx)
      await trx.deleteFrom('sessions').where('id', '=', 'root').execute()
      for (const table of ['steps', 'parallel_tool_calls', 'todos', 'checkpoints'] as const)
        expect(await count(trx, table)).toBe(0)
      // ON DELETE SET NULL: the knowledge outlives its session, and keeps its feedback.
      expect(await trx.selectFrom('knowledge_entities').select(['entity_id', 'source_session_id']).execute()).toEqual([
        { entity_id: 'k', source_session_id: null },
      ])
      expect(await count(trx, 'knowledge_feedback')).toBe(1)
    }))

  it('a step cascades to its tool calls; a knowledge entity to its feedback', () =>
    withRollback(t.db, async (trx) => {
      const { stepId, knowledgeId } = await seed(trx)
      await trx.deleteFrom('steps').where('id', '=', stepId).execute()
      expect(await count(trx, 'parallel_tool_calls')).toBe(0)
      await trx.deleteFrom('knowledge_entities').where('id', '=', knowledgeId).execute()
      expect(await count(trx, 'knowledge_feedback')).toBe(0)
    }))

  it('is refused (no action) for a session with sub-sessions, fork tasks or feedback naming it', () =>
    withRollback(t.db, async (trx) => {
      const { stepId, knowledgeId } = await seed(trx)
      const refused = () => violation(attempt(trx, () => trx.deleteFrom('sessions').where('id', '=', 'root').execute()))

      await trx.insertInto('sessions').values({ id: 'sub', goal: 'x', parent_session_id: 'root', depth: 1 }).execute()
      expect(await refused()).toEqual({ code: '23503', constraint: 'sessions_parent_session_id_fkey' })
      await trx.deleteFrom('sessions').where('id', '=', 'sub').execute()

      await trx
        .insertInto('fork_agent_tasks')
        .values({ id: 'f', parent_session_id: 'root', goal: 'x', depth: 1 })
        .execute()
      expect(await refused()).toEqual({ code: '23503', constraint: 'fork_agent_tasks_parent_session_id_fkey' })
      await trx.deleteFrom('fork_agent_tasks').execute()

      // Through the cascade to steps: a fork task still points at one of the session's steps.
      await trx.insertInto('sessions').values({ id: 'other', goal: 'x' }).execute()
      await trx
        .insertInto('fork_agent_tasks')
        .values({ id: 'f', parent_session_id: 'other', parent_step_id: stepId, goal: 'x', depth: 1 })
        .execute()
      expect(await refused()).toEqual({ code: '23503', constraint: 'fork_agent_tasks_parent_step_id_fkey' })
      await trx.deleteFrom('fork_agent_tasks').execute()

      await trx
        .insertInto('knowledge_feedback')
        .values({ knowledge_id: knowledgeId, user_id: 'u', session_id: 'root' })
        .execute()
      expect(await refused()).toEqual({ code: '23503', constraint: 'knowledge_feedback_session_id_fkey' })
    }))
})
