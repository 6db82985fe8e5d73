import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

import type {
  DefaultTimestamp,
  Defaulted,
  ExecutionStatus,
  KnowledgeLevel,
  Nullable,
  NullableTimestamp,
  Serial,
  Vector,
} from './columns.js'
import type { JsonColumn, JsonObject, NullableJson } from './json.js'

// Per table, column for column with the migrations: `X` as selected, `NewX` to insert, `XUpdate` to change.

// The columns steps, parallel_tool_calls and fork_agent_tasks share, as each work item is timed alike.
interface ExecutionColumns {
  started_at: NullableTimestamp
  completed_at: NullableTimestamp
  execution_duration_ms: Nullable<number>
  created_at: DefaultTimestamp
  updated_at: DefaultTimestamp
}

// Parallel tool calls and fork tasks are retried alike.
interface RetriedColumns extends ExecutionColumns {
  retry_count: Defaulted<number>
  max_retries: Defaulted<number>
}

/**
 * `schema_versions`: the ledger (the last five columns are the migration provider's).
 *
 * @example
 * ```ts
 * const rows: SchemaVersion[] = await db.selectFrom('schema_versions').selectAll().execute()
 * ```
 */
export interface SchemaVersionsTable {
  version: ColumnType<number, number, never>
  description: string
  applied_at: DefaultTimestamp
  checksum: Nullable<string>
  file_name: Nullable<string>
  execution_ms: Nullable<number>
  adopted_at: NullableTimestamp
  atomic: Nullable<boolean>
}
export type SchemaVersion = Selectable<SchemaVersionsTable>

/**
 * `sessions`: one agent run; sub-agents are sessions with a parent.
 *
 * @example
 * ```ts
 * const row: NewSession = { id: 's1', goal: 'Summarise the repo' } // id and goal are required
 * const changes: SessionUpdate = { status: 'completed', updated_at: new Date() }
 * ```
 */
export interface SessionsTable {
  id: string
  goal: string
  initial_goal: Nullable<string>
  status: Defaulted<string>
  user_id: Nullable<string>
  api_key: Nullable<string>
  organization_id: Nullable<string>
  agent_type: Defaulted<string>
  auto_run: Defaulted<boolean>
  tools_config: NullableJson<JsonObject>
  parent_session_id: Nullable<string>
  /** 0–10 (CHECK chk_session_depth). */
  depth: Defaulted<number>
  inherited_context: Nullable<string>
  result_summary: Nullable<string>
  is_sub_agent: Defaulted<boolean>
  last_compressed_step_id: Defaulted<number>
  compressed_summary: Nullable<string>
  is_compressing: Defaulted<boolean>
  compressing_started_at: NullableTimestamp
  is_running: Defaulted<boolean>
  is_deleted: Defaulted<boolean>
  last_knowledge_extraction_at: NullableTimestamp
  share_secret_key: Nullable<string>
  created_at: DefaultTimestamp
  updated_at: DefaultTimestamp
}
export type Session = Selectable<SessionsTable>
export type NewSession = Insertable<SessionsTable>
export type SessionUpdate = Updateable<SessionsTable>

/**
 * `steps`: one step of a session.
 *
 * @example
 * ```ts
 * const row: NewStep = { session_id: 's1', step_number: 1, action: 'think' }
 * const changes: StepUpdate = { status: 'completed', completed_at: new Date() }
 * ```
 */
export interface StepsTable extends ExecutionColumns {
  id: Serial
  session_id: string
  step_number: number
  llm_prompt: Nullable<string>
  llm_response: Nullable<string>
  action: string
  reasoning: Nullable<string>
  selected_tool: Nullable<string>
  parameters: NullableJson
  step_result: Nullable<string>
  error_message: Nullable<string>
  status: Defaulted<ExecutionStatus>
  discarded: Defaulted<boolean>
  is_parallel: Defaulted<boolean>
  wait_strategy: Nullable<string>
  parallel_status: Nullable<string>
}
export type Step = Selectable<StepsTable>
export type NewStep = Insertable<StepsTable>
export type StepUpdate = Updateable<StepsTable>

/**
 * `todos`: the agent's plan.
 *
 * @example
 * ```ts
 * const row: NewTodo = { id: 't1', session_id: 's1', title: 'Read the README', order_index: 0 }
 * const changes: TodoUpdate = { status: 'done', actual_steps: 3 }
 * ```
 */
export interface TodosTable {
  id: string
  session_id: string
  title: string
  description: Nullable<string>
  order_index: number
  status: Defaulted<string>
  /** Ids of the todos this one waits for. */
  dependencies: NullableJson<string[]>
  priority: Defaulted<number>
  estimated_steps: Nullable<number>
  actual_steps: Defaulted<number>
  estimated_tokens: Nullable<number>
  actual_tokens: Defaulted<number>
  result: NullableJson
  error: Nullable<string>
  started_at: NullableTimestamp
  completed_at: NullableTimestamp
  duration_seconds: Nullable<number>
  created_at: DefaultTimestamp
  updated_at: DefaultTimestamp
}
export type Todo = Selectable<TodosTable>
export type NewTodo = Insertable<TodosTable>
export type TodoUpdate = Updateable<TodosTable>

/**
 * `checkpoints`: snapshots of a session's state.
 *
 * @example
 * ```ts
 * const row: NewCheckpoint = { id: 'cp1', session_id: 's1', session_state: { step: 3 } }
 * const changes: CheckpointUpdate = { name: 'before refactor' }
 * ```
 */
export interface CheckpointsTable {
  id: string
  session_id: string
  name: Nullable<string>
  description: Nullable<string>
  checkpoint_type: Nullable<string>
  session_state: JsonColumn<JsonObject>
  step_number: Nullable<number>
  created_at: DefaultTimestamp
}
export type Checkpoint = Selectable<CheckpointsTable>
export type NewCheckpoint = Insertable<CheckpointsTable>
export type CheckpointUpdate = Updateable<CheckpointsTable>

/**
 * `parallel_tool_calls`: a step's tool calls run in parallel.
 *
 * @example
 * ```ts
 * const row: NewParallelToolCall = { step_id: 1, tool_id: 'call_1', tool_name: 'search', parameters: {} }
 * const changes: ParallelToolCallUpdate = { status: 'running', progress_percentage: 50 }
 * ```
 */
export interface ParallelToolCallsTable extends RetriedColumns {
  id: Serial
  step_id: number
  tool_id: string
  tool_name: string
  parameters: JsonColumn<JsonObject>
  status: Defaulted<ExecutionStatus>
  result: Nullable<string>
  error_message: Nullable<string>
  progress_percentage: Defaulted<number>
  status_message: Nullable<string>
  external_task_id: Nullable<string>
  external_status: Nullable<string>
}
export type ParallelToolCall = Selectable<ParallelToolCallsTable>
export type NewParallelToolCall = Insertable<ParallelToolCallsTable>
export type ParallelToolCallUpdate = Updateable<ParallelToolCallsTable>

/**
 * `fork_agent_tasks`: work forked to a sub-agent session.
 *
 * @example
 * ```ts
 * const row: NewForkAgentTask = { id: 'f1', parent_session_id: 's1', goal: 'Read the paper', depth: 1 }
 * const changes: ForkAgentTaskUpdate = { status: 'completed', result_summary: 'done' }
 * ```
 */
export interface ForkAgentTasksTable extends RetriedColumns {
  id: string
  parent_session_id: string
  parent_step_id: Nullable<number>
  sub_session_id: Nullable<string>
  goal: string
  context_summary: Nullable<string>
  depth: number
  max_steps: Defaulted<number>
  timeout_seconds: Defaulted<number>
  status: Defaulted<string>
  result_summary: Nullable<string>
  error_message: Nullable<string>
  steps_executed: Defaulted<number>
  tokens_used: Defaulted<number>
  tools_called: Defaulted<number>
}
export type ForkAgentTask = Selectable<ForkAgentTasksTable>
export type NewForkAgentTask = Insertable<ForkAgentTasksTable>
export type ForkAgentTaskUpdate = Updateable<ForkAgentTasksTable>

/**
 * `knowledge_entities`: knowledge with its embedding.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeEntity = { entity_id: 'k1', content: 'HNSW needs no training', level: 'public', embedding }
 * const changes: KnowledgeEntityUpdate = { is_indexed: true, index_updated_at: new Date() }
 * ```
 */
export interface KnowledgeEntitiesTable {
  id: Serial
  entity_id: string
  source_session_id: Nullable<string>
  source_type: Defaulted<string>
  content: string
  embedding: Vector
  /** Any text: no CHECK holds it to {@link KnowledgeLevel}'s values. */
  level: string
  category: Nullable<string>
  tags: NullableJson<string[]>
  /** 0.0–1.0 (CHECK chk_knowledge_confidence). */
  confidence_score: Defaulted<number>
  usage_count: Defaulted<number>
  last_used_at: NullableTimestamp
  user_id: Nullable<string>
  organization_id: Nullable<string>
  is_indexed: Defaulted<boolean>
  is_to_remove: Defaulted<boolean>
  index_updated_at: NullableTimestamp
  metadata: NullableJson
  session_time: NullableTimestamp
  created_at: DefaultTimestamp
  updated_at: DefaultTimestamp
}
export type KnowledgeEntity = Selectable<KnowledgeEntitiesTable>
export type NewKnowledgeEntity = Insertable<KnowledgeEntitiesTable>
export type KnowledgeEntityUpdate = Updateable<KnowledgeEntitiesTable>

/**
 * `knowledge_feedback`: what users said about a knowledge entity.
 *
 * @example
 * ```ts
 * const row: NewKnowledgeFeedback = { knowledge_id: 1, user_id: 'u1', helpful: true }
 * const changes: KnowledgeFeedbackUpdate = { accuracy_rating: 4 }
 * ```
 */
export interface KnowledgeFeedbackTable {
  id: Serial
  knowledge_id: number
  user_id: string
  helpful: Nullable<boolean>
  accuracy_rating: Nullable<number>
  comment: Nullable<string>
  session_id: Nullable<string>
  used_in_step: Nullable<number>
  created_at: DefaultTimestamp
}
export type KnowledgeFeedback = Selectable<KnowledgeFeedbackTable>
export type NewKnowledgeFeedback = Insertable<KnowledgeFeedbackTable>
export type KnowledgeFeedbackUpdate = Updateable<KnowledgeFeedbackTable>
