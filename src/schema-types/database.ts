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

/** A `schema_versions` row. */
export type SchemaVersion = Selectable<SchemaVersionsTable>

/** A `sessions` row. */
export type Session = Selectable<SessionsTable>
/** A `sessions` row to insert (`id` and `goal` required). */
export type NewSession = Insertable<SessionsTable>
/** A `sessions` update. */
export type SessionUpdate = Updateable<SessionsTable>

/** A `steps` row. */
export type Step = Selectable<StepsTable>
/** A `steps` row to insert. */
export type NewStep = Insertable<StepsTable>
/** A `steps` update. */
export type StepUpdate = Updateable<StepsTable>

/** A `todos` row. */
export type Todo = Selectable<TodosTable>
/** A `todos` row to insert. */
export type NewTodo = Insertable<TodosTable>
/** A `todos` update. */
export type TodoUpdate = Updateable<TodosTable>

/** A `checkpoints` row. */
export type Checkpoint = Selectable<CheckpointsTable>
/** A `checkpoints` row to insert. */
export type NewCheckpoint = Insertable<CheckpointsTable>
/** A `checkpoints` update. */
export type CheckpointUpdate = Updateable<CheckpointsTable>

/** A `parallel_tool_calls` row. */
export type ParallelToolCall = Selectable<ParallelToolCallsTable>
/** A `parallel_tool_calls` row to insert. */
export type NewParallelToolCall = Insertable<ParallelToolCallsTable>
/** A `parallel_tool_calls` update. */
export type ParallelToolCallUpdate = Updateable<ParallelToolCallsTable>

/** A `fork_agent_tasks` row. */
export type ForkAgentTask = Selectable<ForkAgentTasksTable>
/** A `fork_agent_tasks` row to insert. */
export type NewForkAgentTask = Insertable<ForkAgentTasksTable>
/** A `fork_agent_tasks` update. */
export type ForkAgentTaskUpdate = Updateable<ForkAgentTasksTable>

/** A `knowledge_entities` row. */
export type KnowledgeEntity = Selectable<KnowledgeEntitiesTable>
/** A `knowledge_entities` row to insert. */
export type NewKnowledgeEntity = Insertable<KnowledgeEntitiesTable>
/** A `knowledge_entities` update. */
export type KnowledgeEntityUpdate = Updateable<KnowledgeEntitiesTable>

/** A `knowledge_feedback` row. */
export type KnowledgeFeedback = Selectable<KnowledgeFeedbackTable>
/** A `knowledge_feedback` row to insert. */
export type NewKnowledgeFeedback = Insertable<KnowledgeFeedbackTable>
/** A `knowledge_feedback` update. */
export type KnowledgeFeedbackUpdate = Updateable<KnowledgeFeedbackTable>
