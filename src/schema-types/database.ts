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
 * `sessions`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewSession = { id: 's1', goal: 'Summarise the repo' } // id and goal are required
 * await db.insertInto('sessions').values(row).execute()
 * const changes: SessionUpdate = { status: 'completed', updated_at: new Date() }
 * const rows: Session[] = await db.updateTable('sessions').set(changes).where('id', '=', id).returningAll().execute()
 * ```
 */
export type Session = Selectable<SessionsTable>
export type NewSession = Insertable<SessionsTable>
export type SessionUpdate = Updateable<SessionsTable>

/**
 * `steps`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewStep = { session_id: 's1', step_number: 1, action: 'think' }
 * const changes: StepUpdate = { status: 'completed', completed_at: new Date() }
 * const rows: Step[] = await db.selectFrom('steps').selectAll().execute()
 * ```
 */
export type Step = Selectable<StepsTable>
export type NewStep = Insertable<StepsTable>
export type StepUpdate = Updateable<StepsTable>

/**
 * `todos`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewTodo = { id: 't1', session_id: 's1', title: 'Read the README', order_index: 0 }
 * const changes: TodoUpdate = { status: 'done', actual_steps: 3 }
 * const rows: Todo[] = await db.selectFrom('todos').selectAll().execute()
 * ```
 */
export type Todo = Selectable<TodosTable>
export type NewTodo = Insertable<TodosTable>
export type TodoUpdate = Updateable<TodosTable>

/**
 * `checkpoints`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewCheckpoint = { id: 'cp1', session_id: 's1', session_state: { step: 3 } }
 * const changes: CheckpointUpdate = { name: 'before refactor' }
 * const rows: Checkpoint[] = await db.selectFrom('checkpoints').selectAll().execute()
 * ```
 */
export type Checkpoint = Selectable<CheckpointsTable>
export type NewCheckpoint = Insertable<CheckpointsTable>
export type CheckpointUpdate = Updateable<CheckpointsTable>

/**
 * `parallel_tool_calls`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewParallelToolCall = { step_id: 1, tool_id: 'call_1', tool_name: 'search', parameters: {} }
 * const changes: ParallelToolCallUpdate = { status: 'running', progress_percentage: 50 }
 * const rows: ParallelToolCall[] = await db.selectFrom('parallel_tool_calls').selectAll().execute()
 * ```
 */
export type ParallelToolCall = Selectable<ParallelToolCallsTable>
export type NewParallelToolCall = Insertable<ParallelToolCallsTable>
export type ParallelToolCallUpdate = Updateable<ParallelToolCallsTable>

/**
 * `fork_agent_tasks`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewForkAgentTask = { id: 'f1', parent_session_id: 's1', goal: 'Read the paper', depth: 1 }
 * const changes: ForkAgentTaskUpdate = { status: 'completed', result_summary: 'done' }
 * const rows: ForkAgentTask[] = await db.selectFrom('fork_agent_tasks').selectAll().execute()
 * ```
 */
export type ForkAgentTask = Selectable<ForkAgentTasksTable>
export type NewForkAgentTask = Insertable<ForkAgentTasksTable>
export type ForkAgentTaskUpdate = Updateable<ForkAgentTasksTable>

/**
 * `knowledge_entities`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeEntity = { entity_id: 'k1', content: 'HNSW needs no training', level: 'public', embedding }
 * const changes: KnowledgeEntityUpdate = { is_indexed: true, index_updated_at: new Date() }
 * const rows: KnowledgeEntity[] = await db.selectFrom('knowledge_entities').selectAll().execute()
 * ```
 */
export type KnowledgeEntity = Selectable<KnowledgeEntitiesTable>
export type NewKnowledgeEntity = Insertable<KnowledgeEntitiesTable>
export type KnowledgeEntityUpdate = Updateable<KnowledgeEntitiesTable>

/**
 * `knowledge_feedback`: a row as selected, to insert (serials and defaults may be left out), changes to a row.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeFeedback = { knowledge_id: 1, user_id: 'u1', helpful: true }
 * const changes: KnowledgeFeedbackUpdate = { accuracy_rating: 4 }
 * const rows: KnowledgeFeedback[] = await db.selectFrom('knowledge_feedback').selectAll().execute()
 * ```
 */
export type KnowledgeFeedback = Selectable<KnowledgeFeedbackTable>
export type NewKnowledgeFeedback = Insertable<KnowledgeFeedbackTable>
export type KnowledgeFeedbackUpdate = Updateable<KnowledgeFeedbackTable>
