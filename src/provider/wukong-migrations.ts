// Generated from migrations/ by scripts/bundle-migrations.ts (npm run build:migrations): do not edit.
import type { MigrationFile } from './migration-file.js'

/** The Wukong schema: the package's migrations/ folder, validated and parsed at build time. */
export const WUKONG_MIGRATIONS: readonly MigrationFile[] = [
 {
  "version": 1,
  "name": "001_initial_schema",
  "fileName": "001_initial_schema.sql",
  "path": "migrations/001_initial_schema.sql",
  "text": "-- 001_initial_schema: the agent's core tables — sessions, their steps, todos and checkpoints.\n--\n-- Column-for-column the schema deployed Wukong databases already run (shared/schema-spec.md):\n-- same names, types, nullability and defaults, so agent code works on both and an existing\n-- database is adopted without re-running this file. IF NOT EXISTS everywhere keeps the file\n-- harmless if it ever meets a database the old runner half-built.\n\n-- pgvector: 004_knowledge_base stores embeddings. Enabled here, first, so that a server\n-- without the extension fails on the first file rather than after three of them applied.\nCREATE EXTENSION IF NOT EXISTS vector;\n\n-- The version ledger. The migration runner adds its own bookkeeping columns (checksum,\n-- file_name, …) but never renames or drops these three, which deployed code reads.\nCREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\n-- One agent run. Sub-agents are sessions too, linked to their parent; depth bounds recursion.\nCREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n);\n\nCREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status);\nCREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running);\nCREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth);\n-- Share links look sessions up by key; most sessions have none.\nCREATE INDEX IF NOT EXISTS idx_sessions_share_secret_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL;\n-- The session list: a user's live sessions, most recently touched first.\nCREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE;\n\n-- One step of a session: the prompt, the model's answer, the tool it chose and the outcome.\nCREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n);\n\nCREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id);\nCREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status);\nCREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel);\nCREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded);\nCREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action);\n-- Building a session's context reads its live steps in order.\nCREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE;\n\n-- The agent's plan: ordered todos with dependencies and their estimated and actual cost.\nCREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id);\nCREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status);\nCREATE INDEX IF NOT EXISTS idx_todos_session_order ON todos (session_id, order_index);\n\n-- Snapshots of a session's state to resume or branch from.\nCREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id);\nCREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at);\n\n-- The old runner's convention, kept so that running this file by hand still records it.\n-- Through the migration provider this statement is replaced by the provider's own row.\nINSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "c98e6dba2acbe7f62ca3c4102dc4be6d7dcfc185940cfd21736b362adf40cf3f",
  "description": "Initial schema: sessions, steps, todos, checkpoints",
  "sql": {
   "statements": [
    {
     "text": "CREATE EXTENSION IF NOT EXISTS vector",
     "start": 625,
     "line": 10,
     "column": 1,
     "kind": "CreateExtensionStmt",
     "relations": []
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 837,
     "line": 14,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"schema_versions\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n)",
     "start": 1104,
     "line": 21,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id)",
     "start": 2663,
     "line": 51,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id)",
     "start": 2734,
     "line": 52,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status)",
     "start": 2825,
     "line": 53,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running)",
     "start": 2894,
     "line": 54,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth)",
     "start": 2971,
     "line": 55,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_share_secret_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL",
     "start": 3103,
     "line": 57,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE",
     "start": 3305,
     "line": 60,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n)",
     "start": 3521,
     "line": 64,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"steps\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id)",
     "start": 4753,
     "line": 91,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status)",
     "start": 4824,
     "line": 92,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel)",
     "start": 4887,
     "line": 93,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded)",
     "start": 4960,
     "line": 94,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action)",
     "start": 5029,
     "line": 95,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE",
     "start": 5155,
     "line": 97,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 5362,
     "line": 101,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"todos\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id)",
     "start": 6196,
     "line": 123,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status)",
     "start": 6267,
     "line": 124,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_todos_session_order ON todos (session_id, order_index)",
     "start": 6330,
     "line": 125,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 6478,
     "line": 128,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"checkpoints\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id)",
     "start": 6871,
     "line": 139,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"checkpoints\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at)",
     "start": 6954,
     "line": 140,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"checkpoints\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING",
     "start": 7215,
     "line": 144,
     "column": 1,
     "kind": "InsertStmt",
     "relations": [
      "\"schema_versions\""
     ]
    }
   ],
   "transactional": true,
   "ownTimeouts": false,
   "createsTemporary": false,
   "ledgerInserts": [
    {
     "start": 7215,
     "end": 7364,
     "description": "Initial schema: sessions, steps, todos, checkpoints"
    }
   ]
  }
 },
 {
  "version": 2,
  "name": "002_parallel_execution",
  "fileName": "002_parallel_execution.sql",
  "path": "migrations/002_parallel_execution.sql",
  "text": "-- 002_parallel_execution: tool calls a step runs in parallel, one row per call.\n\nCREATE TABLE IF NOT EXISTS parallel_tool_calls (\n    id                    SERIAL PRIMARY KEY,\n    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,\n    -- The model's id for the call, unique within its step.\n    tool_id               VARCHAR(255) NOT NULL,\n    tool_name             VARCHAR(255) NOT NULL,\n    parameters            JSONB NOT NULL,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result                TEXT,\n    error_message         TEXT,\n    progress_percentage   INTEGER DEFAULT 0,\n    status_message        TEXT,\n    -- Long-running calls are tracked by the external service's own task id and status.\n    external_task_id      VARCHAR(255),\n    external_status       VARCHAR(100),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (step_id, tool_id),\n    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n);\n\nCREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_step_id ON parallel_tool_calls (step_id);\nCREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_status ON parallel_tool_calls (status);\nCREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_tool_id ON parallel_tool_calls (tool_id);\n-- Webhooks from external services arrive with their task id; most calls have none.\nCREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_external_task_id ON parallel_tool_calls (external_task_id)\n    WHERE external_task_id IS NOT NULL;\n-- \"Are all of this step's calls done?\"\nCREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_step_status ON parallel_tool_calls (step_id, status);\n\nINSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "93a002f55e50cd071fe5f4f4abf43a8c7e4bb3974031b470cfb1f16f132e9a36",
  "description": "Parallel tool calls",
  "sql": {
   "statements": [
    {
     "text": "CREATE TABLE IF NOT EXISTS parallel_tool_calls (\n    id                    SERIAL PRIMARY KEY,\n    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,\n    -- The model's id for the call, unique within its step.\n    tool_id               VARCHAR(255) NOT NULL,\n    tool_name             VARCHAR(255) NOT NULL,\n    parameters            JSONB NOT NULL,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result                TEXT,\n    error_message         TEXT,\n    progress_percentage   INTEGER DEFAULT 0,\n    status_message        TEXT,\n    -- Long-running calls are tracked by the external service's own task id and status.\n    external_task_id      VARCHAR(255),\n    external_status       VARCHAR(100),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (step_id, tool_id),\n    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n)",
     "start": 82,
     "line": 3,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"parallel_tool_calls\"",
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_step_id ON parallel_tool_calls (step_id)",
     "start": 1332,
     "line": 29,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_status ON parallel_tool_calls (status)",
     "start": 1425,
     "line": 30,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_tool_id ON parallel_tool_calls (tool_id)",
     "start": 1516,
     "line": 31,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_external_task_id ON parallel_tool_calls (external_task_id)\n    WHERE external_task_id IS NOT NULL",
     "start": 1693,
     "line": 33,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_tool_calls_step_status ON parallel_tool_calls (step_id, status)",
     "start": 1883,
     "line": 36,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')\nON CONFLICT (version) DO NOTHING",
     "start": 1989,
     "line": 38,
     "column": 1,
     "kind": "InsertStmt",
     "relations": [
      "\"schema_versions\""
     ]
    }
   ],
   "transactional": true,
   "ownTimeouts": false,
   "createsTemporary": false,
   "ledgerInserts": [
    {
     "start": 1989,
     "end": 2106,
     "description": "Parallel tool calls"
    }
   ]
  }
 },
 {
  "version": 3,
  "name": "003_agent_fork",
  "fileName": "003_agent_fork.sql",
  "path": "migrations/003_agent_fork.sql",
  "text": "-- 003_agent_fork: tasks a session forks to a sub-agent (which runs as its own session).\n\nCREATE TABLE IF NOT EXISTS fork_agent_tasks (\n    id                    VARCHAR(255) PRIMARY KEY,\n    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.\n    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),\n    parent_step_id        INTEGER REFERENCES steps(id),\n    sub_session_id        VARCHAR(255) REFERENCES sessions(id),\n    goal                  TEXT NOT NULL,\n    context_summary       TEXT,\n    depth                 INTEGER NOT NULL,\n    max_steps             INTEGER DEFAULT 20,\n    timeout_seconds       INTEGER DEFAULT 300,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result_summary        TEXT,\n    error_message         TEXT,\n    steps_executed        INTEGER DEFAULT 0,\n    tokens_used           INTEGER DEFAULT 0,\n    tools_called          INTEGER DEFAULT 0,\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_parent_session_id ON fork_agent_tasks (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_sub_session_id ON fork_agent_tasks (sub_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_status ON fork_agent_tasks (status);\nCREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_depth ON fork_agent_tasks (depth);\n\nINSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "68fbb223735917d5a2be24006fb8c9b39720ee14ae9338492391adbecc9e3c9c",
  "description": "Agent fork tasks",
  "sql": {
   "statements": [
    {
     "text": "CREATE TABLE IF NOT EXISTS fork_agent_tasks (\n    id                    VARCHAR(255) PRIMARY KEY,\n    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.\n    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),\n    parent_step_id        INTEGER REFERENCES steps(id),\n    sub_session_id        VARCHAR(255) REFERENCES sessions(id),\n    goal                  TEXT NOT NULL,\n    context_summary       TEXT,\n    depth                 INTEGER NOT NULL,\n    max_steps             INTEGER DEFAULT 20,\n    timeout_seconds       INTEGER DEFAULT 300,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result_summary        TEXT,\n    error_message         TEXT,\n    steps_executed        INTEGER DEFAULT 0,\n    tokens_used           INTEGER DEFAULT 0,\n    tools_called          INTEGER DEFAULT 0,\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 90,
     "line": 3,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"fork_agent_tasks\"",
      "\"sessions\"",
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_parent_session_id ON fork_agent_tasks (parent_session_id)",
     "start": 1306,
     "line": 29,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_sub_session_id ON fork_agent_tasks (sub_session_id)",
     "start": 1413,
     "line": 30,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_status ON fork_agent_tasks (status)",
     "start": 1514,
     "line": 31,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_agent_tasks_depth ON fork_agent_tasks (depth)",
     "start": 1599,
     "line": 32,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING",
     "start": 1683,
     "line": 34,
     "column": 1,
     "kind": "InsertStmt",
     "relations": [
      "\"schema_versions\""
     ]
    }
   ],
   "transactional": true,
   "ownTimeouts": false,
   "createsTemporary": false,
   "ledgerInserts": [
    {
     "start": 1683,
     "end": 1797,
     "description": "Agent fork tasks"
    }
   ]
  }
 },
 {
  "version": 4,
  "name": "004_knowledge_base",
  "fileName": "004_knowledge_base.sql",
  "path": "migrations/004_knowledge_base.sql",
  "text": "-- 004_knowledge_base: knowledge extracted from sessions, searchable by embedding, and the\n-- feedback users give on it.\n\nCREATE TABLE IF NOT EXISTS knowledge_entities (\n    id                SERIAL PRIMARY KEY,\n    entity_id         VARCHAR(255) NOT NULL UNIQUE,\n    -- Knowledge outlives the session it came from.\n    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,\n    source_type       VARCHAR(50) DEFAULT 'conversation',\n    content           TEXT NOT NULL,\n    -- OpenAI text-embedding-3-small / ada-002 dimensions.\n    embedding         vector(1536),\n    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).\n    level             VARCHAR(50) NOT NULL,\n    category          VARCHAR(100),\n    tags              JSONB,\n    confidence_score  DOUBLE PRECISION DEFAULT 0.5,\n    usage_count       INTEGER DEFAULT 0,\n    last_used_at      TIMESTAMP WITH TIME ZONE,\n    user_id           VARCHAR(255),\n    organization_id   VARCHAR(255),\n    -- Only indexed, not-to-be-removed entries are served by search.\n    is_indexed        BOOLEAN DEFAULT FALSE,\n    is_to_remove      BOOLEAN DEFAULT FALSE,\n    index_updated_at  TIMESTAMP WITH TIME ZONE,\n    metadata          JSONB,\n    session_time      TIMESTAMP WITH TIME ZONE,\n    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)\n);\n\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_entity_id ON knowledge_entities (entity_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_source_session_id ON knowledge_entities (source_session_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_level ON knowledge_entities (level);\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_user_id ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_organization_id ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_is_indexed ON knowledge_entities (is_indexed);\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_is_to_remove ON knowledge_entities (is_to_remove);\n\n-- Nearest-neighbour search by cosine distance (`embedding <=> $1`).\n--\n-- HNSW rather than the deployed ivfflat (lists = 100): ivfflat computes its 100 cluster\n-- centres from the rows present when the index is built, and this migration builds it on an\n-- empty table, so its clusters are meaningless until someone runs REINDEX; HNSW needs no\n-- training data, keeps its recall as rows arrive, and answers faster at equal recall\n-- (pgvector >= 0.5; the server here has 0.8, PGlite's pgvector too). The column and the\n-- operator class are the deployed ones, so queries are the same on either kind of index.\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops);\n-- Search serves only indexed, live entries of one visibility level; partial indexes whose\n-- predicates match the query's let the planner search just those rows.\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding_public ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;\nCREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding_organization ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;\n\nCREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_knowledge_feedback_knowledge_id ON knowledge_feedback (knowledge_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_feedback_user_id ON knowledge_feedback (user_id);\n\nINSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "1318bfd5ce270a6f3754babcb7e6dbefaadc70fef3184cef481f9b58b38236c7",
  "description": "Knowledge base with vector search",
  "sql": {
   "statements": [
    {
     "text": "CREATE TABLE IF NOT EXISTS knowledge_entities (\n    id                SERIAL PRIMARY KEY,\n    entity_id         VARCHAR(255) NOT NULL UNIQUE,\n    -- Knowledge outlives the session it came from.\n    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,\n    source_type       VARCHAR(50) DEFAULT 'conversation',\n    content           TEXT NOT NULL,\n    -- OpenAI text-embedding-3-small / ada-002 dimensions.\n    embedding         vector(1536),\n    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).\n    level             VARCHAR(50) NOT NULL,\n    category          VARCHAR(100),\n    tags              JSONB,\n    confidence_score  DOUBLE PRECISION DEFAULT 0.5,\n    usage_count       INTEGER DEFAULT 0,\n    last_used_at      TIMESTAMP WITH TIME ZONE,\n    user_id           VARCHAR(255),\n    organization_id   VARCHAR(255),\n    -- Only indexed, not-to-be-removed entries are served by search.\n    is_indexed        BOOLEAN DEFAULT FALSE,\n    is_to_remove      BOOLEAN DEFAULT FALSE,\n    index_updated_at  TIMESTAMP WITH TIME ZONE,\n    metadata          JSONB,\n    session_time      TIMESTAMP WITH TIME ZONE,\n    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)\n)",
     "start": 122,
     "line": 4,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"knowledge_entities\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_entity_id ON knowledge_entities (entity_id)",
     "start": 1502,
     "line": 33,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_source_session_id ON knowledge_entities (source_session_id)",
     "start": 1597,
     "line": 34,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_level ON knowledge_entities (level)",
     "start": 1708,
     "line": 35,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_user_id ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL",
     "start": 1795,
     "line": 36,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_organization_id ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL",
     "start": 1916,
     "line": 38,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_is_indexed ON knowledge_entities (is_indexed)",
     "start": 2061,
     "line": 40,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_is_to_remove ON knowledge_entities (is_to_remove)",
     "start": 2158,
     "line": 41,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)",
     "start": 2869,
     "line": 51,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding_public ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 3160,
     "line": 55,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entities_embedding_organization ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 3369,
     "line": 58,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 3591,
     "line": 62,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"knowledge_feedback\"",
      "\"knowledge_entities\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_feedback_knowledge_id ON knowledge_feedback (knowledge_id)",
     "start": 4046,
     "line": 74,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_feedback\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_feedback_user_id ON knowledge_feedback (user_id)",
     "start": 4147,
     "line": 75,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_feedback\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING",
     "start": 4239,
     "line": 77,
     "column": 1,
     "kind": "InsertStmt",
     "relations": [
      "\"schema_versions\""
     ]
    }
   ],
   "transactional": true,
   "ownTimeouts": false,
   "createsTemporary": false,
   "ledgerInserts": [
    {
     "start": 4239,
     "end": 4370,
     "description": "Knowledge base with vector search"
    }
   ]
  }
 }
]
