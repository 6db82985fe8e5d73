import type { Insertable, Selectable, Updateable } from 'kysely'

import type {
  CheckpointsTable,
  ForkAgentTasksTable,
  KnowledgeEntitiesTable,
  KnowledgeFeedbackTable,
  ParallelToolCallsTable,
  SchemaVersionsTable,
  SessionsTable,
  StepsTable,
  TodosTable,
} from './tables.js'

/**
 * The Wukong schema for `Kysely<Database>`.
 *
 * @example
 * ```ts
 * const active = await db.selectFrom('sessions').select(['id', 'goal']).where('status', '=', 'active').execute()
 * ```
 */
export interface Database {
  schema_versions: SchemaVersionsTable
  sessions: SessionsTable
  steps: StepsTable
  todos: TodosTable
  checkpoints: CheckpointsTable
  parallel_tool_calls: ParallelToolCallsTable
  fork_agent_tasks: ForkAgentTasksTable
  knowledge_entities: KnowledgeEntitiesTable
  knowledge_feedback: KnowledgeFeedbackTable
}

/**
 * A `schema_versions` row, as selected.
 *
 * @example
 * ```ts
 * const row: SchemaVersion = await db.selectFrom('schema_versions').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type SchemaVersion = Selectable<SchemaVersionsTable>

/**
 * A `sessions` row, as selected.
 *
 * @example
 * ```ts
 * const row: Session = await db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type Session = Selectable<SessionsTable>

/**
 * A `sessions` row to insert (`id` and `goal` required): serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewSession = { id: 's1', goal: 'Summarise the repo' }
 * await db.insertInto('sessions').values(row).execute()
 * ```
 */
export type NewSession = Insertable<SessionsTable>

/**
 * Changes to a `sessions` row.
 *
 * @example
 * ```ts
 * const changes: SessionUpdate = { status: 'completed', updated_at: new Date() }
 * await db.updateTable('sessions').set(changes).where('id', '=', id).execute()
 * ```
 */
export type SessionUpdate = Updateable<SessionsTable>

/**
 * A `steps` row, as selected.
 *
 * @example
 * ```ts
 * const row: Step = await db.selectFrom('steps').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type Step = Selectable<StepsTable>

/**
 * A `steps` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewStep = { session_id: 's1', step_number: 1, action: 'think' }
 * await db.insertInto('steps').values(row).execute()
 * ```
 */
export type NewStep = Insertable<StepsTable>

/**
 * Changes to a `steps` row.
 *
 * @example
 * ```ts
 * const changes: StepUpdate = { status: 'completed', completed_at: new Date() }
 * await db.updateTable('steps').set(changes).where('id', '=', 1).execute()
 * ```
 */
export type StepUpdate = Updateable<StepsTable>

/**
 * A `todos` row, as selected.
 *
 * @example
 * ```ts
 * const row: Todo = await db.selectFrom('todos').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type Todo = Selectable<TodosTable>

/**
 * A `todos` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewTodo = { id: 't1', session_id: 's1', title: 'Read the README', order_index: 0 }
 * await db.insertInto('todos').values(row).execute()
 * ```
 */
export type NewTodo = Insertable<TodosTable>

/**
 * Changes to a `todos` row.
 *
 * @example
 * ```ts
 * const changes: TodoUpdate = { status: 'done', actual_steps: 3 }
 * await db.updateTable('todos').set(changes).where('id', '=', id).execute()
 * ```
 */
export type TodoUpdate = Updateable<TodosTable>

/**
 * A `checkpoints` row, as selected.
 *
 * @example
 * ```ts
 * const row: Checkpoint = await db.selectFrom('checkpoints').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type Checkpoint = Selectable<CheckpointsTable>

/**
 * A `checkpoints` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewCheckpoint = { id: 'cp1', session_id: 's1', session_state: { step: 3 } }
 * await db.insertInto('checkpoints').values(row).execute()
 * ```
 */
export type NewCheckpoint = Insertable<CheckpointsTable>

/**
 * Changes to a `checkpoints` row.
 *
 * @example
 * ```ts
 * const changes: CheckpointUpdate = { name: 'before refactor' }
 * await db.updateTable('checkpoints').set(changes).where('id', '=', id).execute()
 * ```
 */
export type CheckpointUpdate = Updateable<CheckpointsTable>

/**
 * A `parallel_tool_calls` row, as selected.
 *
 * @example
 * ```ts
 * const row: ParallelToolCall = await db.selectFrom('parallel_tool_calls').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type ParallelToolCall = Selectable<ParallelToolCallsTable>

/**
 * A `parallel_tool_calls` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewParallelToolCall = { step_id: 1, tool_id: 'call_1', tool_name: 'search', parameters: { q: 'pgvector' } }
 * await db.insertInto('parallel_tool_calls').values(row).execute()
 * ```
 */
export type NewParallelToolCall = Insertable<ParallelToolCallsTable>

/**
 * Changes to a `parallel_tool_calls` row.
 *
 * @example
 * ```ts
 * const changes: ParallelToolCallUpdate = { status: 'running', progress_percentage: 50 }
 * await db.updateTable('parallel_tool_calls').set(changes).where('id', '=', 1).execute()
 * ```
 */
export type ParallelToolCallUpdate = Updateable<ParallelToolCallsTable>

/**
 * A `fork_agent_tasks` row, as selected.
 *
 * @example
 * ```ts
 * const row: ForkAgentTask = await db.selectFrom('fork_agent_tasks').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type ForkAgentTask = Selectable<ForkAgentTasksTable>

/**
 * A `fork_agent_tasks` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewForkAgentTask = { id: 'f1', parent_session_id: 's1', goal: 'Read the paper', depth: 1 }
 * await db.insertInto('fork_agent_tasks').values(row).execute()
 * ```
 */
export type NewForkAgentTask = Insertable<ForkAgentTasksTable>

/**
 * Changes to a `fork_agent_tasks` row.
 *
 * @example
 * ```ts
 * const changes: ForkAgentTaskUpdate = { status: 'completed', result_summary: 'done' }
 * await db.updateTable('fork_agent_tasks').set(changes).where('id', '=', id).execute()
 * ```
 */
export type ForkAgentTaskUpdate = Updateable<ForkAgentTasksTable>

/**
 * A `knowledge_entities` row, as selected.
 *
 * @example
 * ```ts
 * const row: KnowledgeEntity = await db.selectFrom('knowledge_entities').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type KnowledgeEntity = Selectable<KnowledgeEntitiesTable>

/**
 * A `knowledge_entities` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeEntity = { entity_id: 'k1', content: 'HNSW needs no training', level: 'public', embedding }
 * await db.insertInto('knowledge_entities').values(row).execute()
 * ```
 */
export type NewKnowledgeEntity = Insertable<KnowledgeEntitiesTable>

/**
 * Changes to a `knowledge_entities` row.
 *
 * @example
 * ```ts
 * const changes: KnowledgeEntityUpdate = { is_indexed: true, index_updated_at: new Date() }
 * await db.updateTable('knowledge_entities').set(changes).where('id', '=', 1).execute()
 * ```
 */
export type KnowledgeEntityUpdate = Updateable<KnowledgeEntitiesTable>

/**
 * A `knowledge_feedback` row, as selected.
 *
 * @example
 * ```ts
 * const row: KnowledgeFeedback = await db.selectFrom('knowledge_feedback').selectAll().executeTakeFirstOrThrow()
 * ```
 */
export type KnowledgeFeedback = Selectable<KnowledgeFeedbackTable>

/**
 * A `knowledge_feedback` row to insert: serial ids and defaulted columns may be left out.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeFeedback = { knowledge_id: 1, user_id: 'u1', helpful: true }
 * await db.insertInto('knowledge_feedback').values(row).execute()
 * ```
 */
export type NewKnowledgeFeedback = Insertable<KnowledgeFeedbackTable>

/**
 * Changes to a `knowledge_feedback` row.
 *
 * @example
 * ```ts
 * const changes: KnowledgeFeedbackUpdate = { accuracy_rating: 4 }
 * await db.updateTable('knowledge_feedback').set(changes).where('id', '=', 1).execute()
 * ```
 */
export type KnowledgeFeedbackUpdate = Updateable<KnowledgeFeedbackTable>
