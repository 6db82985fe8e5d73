import type { SelectType } from 'kysely'

import type { Database } from './database.js'

/** Columns are compared by the TypeScript type a driver returns for them, not by SQL type. */
export type ColumnFamily = 'string' | 'number' | 'boolean' | 'timestamp' | 'json' | 'vector'

type FamilyOf<T> = [T] extends [number[]]
  ? 'vector'
  : [T] extends [Date]
    ? 'timestamp'
    : [T] extends [string]
      ? 'string'
      : [T] extends [number]
        ? 'number'
        : [T] extends [boolean]
          ? 'boolean'
          : 'json'

/** Computed from the column's type, so a `DATABASE_COLUMNS` entry that disagrees does not compile. */
export type ColumnFacts<C> = readonly [
  FamilyOf<NonNullable<SelectType<C>>>,
  null extends SelectType<C> ? true : false,
  '__hasDefault__' extends keyof C ? true : false,
]

/** Exact: a `DATABASE_COLUMNS` with a column missing or extra does not compile. */
export type DatabaseColumnFacts = ColumnFactsOf<Database>

export type ColumnFactsOf<DB> = {
  readonly [T in keyof DB]: { readonly [K in keyof DB[T]]-?: ColumnFacts<DB[T][K]> }
}

/**
 * Every column as `[family, nullable, hasDefault]`, checked against the types when compiled and against the catalog.
 *
 * @example
 * ```ts
 * DATABASE_COLUMNS.sessions.goal // ['string', false, false]
 * ```
 */
export const DATABASE_COLUMNS = {
  schema_versions: {
    version: ['number', false, false],
    description: ['string', false, false],
    applied_at: ['timestamp', true, true],
    checksum: ['string', true, false],
    file_name: ['string', true, false],
    execution_ms: ['number', true, false],
    adopted_at: ['timestamp', true, false],
    atomic: ['boolean', true, false],
  },
  sessions: {
    id: ['string', false, false],
    goal: ['string', false, false],
    initial_goal: ['string', true, false],
    status: ['string', true, true],
    user_id: ['string', true, false],
    api_key: ['string', true, false],
    organization_id: ['string', true, false],
    agent_type: ['string', true, true],
    auto_run: ['boolean', true, true],
    tools_config: ['json', true, false],
    parent_session_id: ['string', true, false],
    depth: ['number', true, true],
    inherited_context: ['string', true, false],
    result_summary: ['string', true, false],
    is_sub_agent: ['boolean', true, true],
    last_compressed_step_id: ['number', true, true],
    compressed_summary: ['string', true, false],
    is_compressing: ['boolean', true, true],
    compressing_started_at: ['timestamp', true, false],
    is_running: ['boolean', true, true],
    is_deleted: ['boolean', true, true],
    last_knowledge_extraction_at: ['timestamp', true, false],
    share_secret_key: ['string', true, false],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  steps: {
    id: ['number', false, true],
    session_id: ['string', false, false],
    step_number: ['number', false, false],
    llm_prompt: ['string', true, false],
    llm_response: ['string', true, false],
    action: ['string', false, false],
    reasoning: ['string', true, false],
    selected_tool: ['string', true, false],
    parameters: ['json', true, false],
    step_result: ['string', true, false],
    error_message: ['string', true, false],
    status: ['string', true, true],
    discarded: ['boolean', true, true],
    is_parallel: ['boolean', true, true],
    wait_strategy: ['string', true, false],
    parallel_status: ['string', true, false],
    started_at: ['timestamp', true, false],
    completed_at: ['timestamp', true, false],
    execution_duration_ms: ['number', true, false],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  todos: {
    id: ['string', false, false],
    session_id: ['string', false, false],
    title: ['string', false, false],
    description: ['string', true, false],
    order_index: ['number', false, false],
    status: ['string', true, true],
    dependencies: ['json', true, false],
    priority: ['number', true, true],
    estimated_steps: ['number', true, false],
    actual_steps: ['number', true, true],
    estimated_tokens: ['number', true, false],
    actual_tokens: ['number', true, true],
    result: ['json', true, false],
    error: ['string', true, false],
    started_at: ['timestamp', true, false],
    completed_at: ['timestamp', true, false],
    duration_seconds: ['number', true, false],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  checkpoints: {
    id: ['string', false, false],
    session_id: ['string', false, false],
    name: ['string', true, false],
    description: ['string', true, false],
    checkpoint_type: ['string', true, false],
    session_state: ['json', false, false],
    step_number: ['number', true, false],
    created_at: ['timestamp', true, true],
  },
  parallel_tool_calls: {
    id: ['number', false, true],
    step_id: ['number', false, false],
    tool_id: ['string', false, false],
    tool_name: ['string', false, false],
    parameters: ['json', false, false],
    status: ['string', true, true],
    result: ['string', true, false],
    error_message: ['string', true, false],
    progress_percentage: ['number', true, true],
    status_message: ['string', true, false],
    external_task_id: ['string', true, false],
    external_status: ['string', true, false],
    started_at: ['timestamp', true, false],
    completed_at: ['timestamp', true, false],
    execution_duration_ms: ['number', true, false],
    retry_count: ['number', true, true],
    max_retries: ['number', true, true],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  fork_agent_tasks: {
    id: ['string', false, false],
    parent_session_id: ['string', false, false],
    parent_step_id: ['number', true, false],
    sub_session_id: ['string', true, false],
    goal: ['string', false, false],
    context_summary: ['string', true, false],
    depth: ['number', false, false],
    max_steps: ['number', true, true],
    timeout_seconds: ['number', true, true],
    status: ['string', true, true],
    result_summary: ['string', true, false],
    error_message: ['string', true, false],
    steps_executed: ['number', true, true],
    tokens_used: ['number', true, true],
    tools_called: ['number', true, true],
    started_at: ['timestamp', true, false],
    completed_at: ['timestamp', true, false],
    execution_duration_ms: ['number', true, false],
    retry_count: ['number', true, true],
    max_retries: ['number', true, true],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  knowledge_entities: {
    id: ['number', false, true],
    entity_id: ['string', false, false],
    source_session_id: ['string', true, false],
    source_type: ['string', true, true],
    content: ['string', false, false],
    embedding: ['vector', true, false],
    level: ['string', false, false],
    category: ['string', true, false],
    tags: ['json', true, false],
    confidence_score: ['number', true, true],
    usage_count: ['number', true, true],
    last_used_at: ['timestamp', true, false],
    user_id: ['string', true, false],
    organization_id: ['string', true, false],
    is_indexed: ['boolean', true, true],
    is_to_remove: ['boolean', true, true],
    index_updated_at: ['timestamp', true, false],
    metadata: ['json', true, false],
    session_time: ['timestamp', true, false],
    created_at: ['timestamp', true, true],
    updated_at: ['timestamp', true, true],
  },
  knowledge_feedback: {
    id: ['number', false, true],
    knowledge_id: ['number', false, false],
    user_id: ['string', false, false],
    helpful: ['boolean', true, false],
    accuracy_rating: ['number', true, false],
    comment: ['string', true, false],
    session_id: ['string', true, false],
    used_in_step: ['number', true, false],
    created_at: ['timestamp', true, true],
  },
} as const satisfies DatabaseColumnFacts
