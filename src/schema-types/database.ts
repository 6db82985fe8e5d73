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
