// Generated from migrations/ by scripts/bundle-migrations.ts (npm run build:migrations): do not edit.
import type { MigrationFile } from './migration-file.js'

/** The Wukong schema: the package's migrations/ folder, validated and parsed at build time. */
export const WUKONG_MIGRATIONS: readonly MigrationFile[] = [
 {
  "version": 1,
  "name": "001_initial_schema",
  "fileName": "001_initial_schema.sql",
  "path": "migrations/001_initial_schema.sql",
  "text": "-- 001_initial_schema: the agent's core tables — sessions, their steps, todos and checkpoints.\n--\n-- Exactly the schema deployed Wukong databases already run: same tables, columns, types,\n-- nullability, defaults, constraint and index names, so agent code works on both, an existing\n-- database is adopted without re-running this file, and later files can name any object. IF NOT EXISTS everywhere keeps the file\n-- harmless if it ever meets a database the old runner half-built.\n\n-- pgvector: 004_knowledge_base stores embeddings. Enabled here, first, so that a server\n-- without the extension fails on the first file rather than after three of them applied.\nCREATE EXTENSION IF NOT EXISTS vector;\n\n-- The version ledger. The migration runner adds its own bookkeeping columns (checksum,\n-- file_name, …) but never renames or drops these three, which deployed code reads.\nCREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\n-- One agent run. Sub-agents are sessions too, linked to their parent; depth bounds recursion.\nCREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n);\n\nCREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status);\nCREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running);\nCREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth);\n-- Share links look sessions up by key; most sessions have none.\nCREATE INDEX IF NOT EXISTS idx_sessions_share_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL;\n-- The session list: a user's live sessions, most recently touched first.\nCREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE;\n\n-- One step of a session: the prompt, the model's answer, the tool it chose and the outcome.\nCREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n);\n\nCREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id);\nCREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status);\nCREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel);\nCREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded);\nCREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action);\n-- Building a session's context reads its live steps in order.\nCREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE;\n\n-- The agent's plan: ordered todos with dependencies and their estimated and actual cost.\nCREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id);\nCREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status);\nCREATE INDEX IF NOT EXISTS idx_todos_order ON todos (session_id, order_index);\n\n-- Snapshots of a session's state to resume or branch from.\nCREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id);\nCREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at);\n\n-- The old runner's convention, kept so that running this file by hand still records it.\n-- Through the migration provider this statement is replaced by the provider's own row.\nINSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "c3f5531f642c21b9edc67404ee8082f7115dccc9d9cc74cc963dcb969a40ce89",
  "description": "Initial schema: sessions, steps, todos, checkpoints",
  "sql": {
   "statements": [
    {
     "text": "CREATE EXTENSION IF NOT EXISTS vector",
     "start": 660,
     "line": 10,
     "column": 1,
     "kind": "CreateExtensionStmt",
     "relations": []
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS schema_versions (\n    version     INTEGER PRIMARY KEY,\n    description TEXT NOT NULL,\n    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 872,
     "line": 14,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"schema_versions\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS sessions (\n    id                           VARCHAR(255) PRIMARY KEY,\n    goal                         TEXT NOT NULL,\n    initial_goal                 TEXT,\n    status                       VARCHAR(50) DEFAULT 'active',\n    user_id                      VARCHAR(255),\n    api_key                      VARCHAR(255),\n    organization_id              VARCHAR(255),\n    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',\n    auto_run                     BOOLEAN DEFAULT FALSE,\n    tools_config                 JSONB,\n    parent_session_id            VARCHAR(255) REFERENCES sessions(id),\n    depth                        INTEGER DEFAULT 0,\n    inherited_context            TEXT,\n    result_summary               TEXT,\n    is_sub_agent                 BOOLEAN DEFAULT FALSE,\n    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).\n    last_compressed_step_id      INTEGER DEFAULT -1,\n    compressed_summary           TEXT,\n    is_compressing               BOOLEAN DEFAULT FALSE,\n    compressing_started_at       TIMESTAMP WITH TIME ZONE,\n    is_running                   BOOLEAN DEFAULT TRUE,\n    is_deleted                   BOOLEAN DEFAULT FALSE,\n    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,\n    share_secret_key             VARCHAR(255) UNIQUE,\n    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)\n)",
     "start": 1139,
     "line": 21,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id)",
     "start": 2698,
     "line": 51,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id)",
     "start": 2769,
     "line": 52,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status)",
     "start": 2860,
     "line": 53,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running)",
     "start": 2929,
     "line": 54,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth)",
     "start": 3006,
     "line": 55,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_share_key ON sessions (share_secret_key)\n    WHERE share_secret_key IS NOT NULL",
     "start": 3138,
     "line": 57,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)\n    WHERE is_deleted = FALSE",
     "start": 3333,
     "line": 60,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS steps (\n    id                    SERIAL PRIMARY KEY,\n    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    step_number           INTEGER NOT NULL,\n    llm_prompt            TEXT,\n    llm_response          TEXT,\n    action                VARCHAR(100) NOT NULL,\n    reasoning             TEXT,\n    selected_tool         VARCHAR(255),\n    parameters            JSONB,\n    step_result           TEXT,\n    error_message         TEXT,\n    status                VARCHAR(50) DEFAULT 'pending',\n    -- Discarded steps stay for the record but drop out of the session's context.\n    discarded             BOOLEAN DEFAULT FALSE,\n    is_parallel           BOOLEAN DEFAULT FALSE,\n    wait_strategy         VARCHAR(50),\n    parallel_status       VARCHAR(50),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (session_id, step_number),\n    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n)",
     "start": 3549,
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
     "start": 4781,
     "line": 91,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status)",
     "start": 4852,
     "line": 92,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel)",
     "start": 4915,
     "line": 93,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded)",
     "start": 4988,
     "line": 94,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action)",
     "start": 5057,
     "line": 95,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)\n    WHERE discarded = FALSE",
     "start": 5183,
     "line": 97,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"steps\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS todos (\n    id               VARCHAR(255) PRIMARY KEY,\n    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    title            TEXT NOT NULL,\n    description      TEXT,\n    order_index      INTEGER NOT NULL,\n    status           VARCHAR(50) DEFAULT 'pending',\n    dependencies     JSONB,\n    priority         INTEGER DEFAULT 0,\n    estimated_steps  INTEGER,\n    actual_steps     INTEGER DEFAULT 0,\n    estimated_tokens INTEGER,\n    actual_tokens    INTEGER DEFAULT 0,\n    result           JSONB,\n    error            TEXT,\n    started_at       TIMESTAMP WITH TIME ZONE,\n    completed_at     TIMESTAMP WITH TIME ZONE,\n    duration_seconds INTEGER,\n    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 5390,
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
     "start": 6224,
     "line": 123,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status)",
     "start": 6295,
     "line": 124,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_todos_order ON todos (session_id, order_index)",
     "start": 6358,
     "line": 125,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"todos\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS checkpoints (\n    id              VARCHAR(255) PRIMARY KEY,\n    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,\n    name            VARCHAR(255),\n    description     TEXT,\n    checkpoint_type VARCHAR(50),\n    session_state   JSONB NOT NULL,\n    step_number     INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 6498,
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
     "start": 6891,
     "line": 139,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"checkpoints\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at)",
     "start": 6974,
     "line": 140,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"checkpoints\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')\nON CONFLICT (version) DO NOTHING",
     "start": 7235,
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
     "start": 7235,
     "end": 7384,
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
  "text": "-- 002_parallel_execution: tool calls a step runs in parallel, one row per call.\n\nCREATE TABLE IF NOT EXISTS parallel_tool_calls (\n    id                    SERIAL PRIMARY KEY,\n    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,\n    -- The model's id for the call, unique within its step.\n    tool_id               VARCHAR(255) NOT NULL,\n    tool_name             VARCHAR(255) NOT NULL,\n    parameters            JSONB NOT NULL,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result                TEXT,\n    error_message         TEXT,\n    progress_percentage   INTEGER DEFAULT 0,\n    status_message        TEXT,\n    -- Long-running calls are tracked by the external service's own task id and status.\n    external_task_id      VARCHAR(255),\n    external_status       VARCHAR(100),\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    UNIQUE (step_id, tool_id),\n    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))\n);\n\nCREATE INDEX IF NOT EXISTS idx_parallel_calls_step_id ON parallel_tool_calls (step_id);\nCREATE INDEX IF NOT EXISTS idx_parallel_calls_status ON parallel_tool_calls (status);\nCREATE INDEX IF NOT EXISTS idx_parallel_calls_tool_id ON parallel_tool_calls (tool_id);\n-- Webhooks from external services arrive with their task id; most calls have none.\nCREATE INDEX IF NOT EXISTS idx_parallel_calls_external_task ON parallel_tool_calls (external_task_id)\n    WHERE external_task_id IS NOT NULL;\n-- \"Are all of this step's calls done?\"\nCREATE INDEX IF NOT EXISTS idx_parallel_status_count ON parallel_tool_calls (step_id, status);\n\nINSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "73d3a5ddc7f237cde4d121bae17d5e8a554dc58efdad82eec01ef82adee1f739",
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
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_step_id ON parallel_tool_calls (step_id)",
     "start": 1332,
     "line": 29,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_status ON parallel_tool_calls (status)",
     "start": 1420,
     "line": 30,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_tool_id ON parallel_tool_calls (tool_id)",
     "start": 1506,
     "line": 31,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_calls_external_task ON parallel_tool_calls (external_task_id)\n    WHERE external_task_id IS NOT NULL",
     "start": 1678,
     "line": 33,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_parallel_status_count ON parallel_tool_calls (step_id, status)",
     "start": 1860,
     "line": 36,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"parallel_tool_calls\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')\nON CONFLICT (version) DO NOTHING",
     "start": 1956,
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
     "start": 1956,
     "end": 2073,
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
  "text": "-- 003_agent_fork: tasks a session forks to a sub-agent (which runs as its own session).\n\nCREATE TABLE IF NOT EXISTS fork_agent_tasks (\n    id                    VARCHAR(255) PRIMARY KEY,\n    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.\n    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),\n    parent_step_id        INTEGER REFERENCES steps(id),\n    sub_session_id        VARCHAR(255) REFERENCES sessions(id),\n    goal                  TEXT NOT NULL,\n    context_summary       TEXT,\n    depth                 INTEGER NOT NULL,\n    max_steps             INTEGER DEFAULT 20,\n    timeout_seconds       INTEGER DEFAULT 300,\n    status                VARCHAR(50) DEFAULT 'pending',\n    result_summary        TEXT,\n    error_message         TEXT,\n    steps_executed        INTEGER DEFAULT 0,\n    tokens_used           INTEGER DEFAULT 0,\n    tools_called          INTEGER DEFAULT 0,\n    started_at            TIMESTAMP WITH TIME ZONE,\n    completed_at          TIMESTAMP WITH TIME ZONE,\n    execution_duration_ms INTEGER,\n    retry_count           INTEGER DEFAULT 0,\n    max_retries           INTEGER DEFAULT 3,\n    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_parent_session ON fork_agent_tasks (parent_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_sub_session ON fork_agent_tasks (sub_session_id);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_status ON fork_agent_tasks (status);\nCREATE INDEX IF NOT EXISTS idx_fork_tasks_depth ON fork_agent_tasks (depth);\n\nINSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "4ff11f296a1e109dbd5f7a49beea0d36097b082f9c6c9ddc0d1fe81832bd73a8",
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
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_parent_session ON fork_agent_tasks (parent_session_id)",
     "start": 1306,
     "line": 29,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_sub_session ON fork_agent_tasks (sub_session_id)",
     "start": 1404,
     "line": 30,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_status ON fork_agent_tasks (status)",
     "start": 1496,
     "line": 31,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_fork_tasks_depth ON fork_agent_tasks (depth)",
     "start": 1575,
     "line": 32,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"fork_agent_tasks\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')\nON CONFLICT (version) DO NOTHING",
     "start": 1653,
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
     "start": 1653,
     "end": 1767,
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
  "text": "-- 004_knowledge_base: knowledge extracted from sessions, searchable by embedding, and the\n-- feedback users give on it.\n\nCREATE TABLE IF NOT EXISTS knowledge_entities (\n    id                SERIAL PRIMARY KEY,\n    entity_id         VARCHAR(255) NOT NULL UNIQUE,\n    -- Knowledge outlives the session it came from.\n    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,\n    source_type       VARCHAR(50) DEFAULT 'conversation',\n    content           TEXT NOT NULL,\n    -- OpenAI text-embedding-3-small / ada-002 dimensions.\n    embedding         vector(1536),\n    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).\n    level             VARCHAR(50) NOT NULL,\n    category          VARCHAR(100),\n    tags              JSONB,\n    confidence_score  DOUBLE PRECISION DEFAULT 0.5,\n    usage_count       INTEGER DEFAULT 0,\n    last_used_at      TIMESTAMP WITH TIME ZONE,\n    user_id           VARCHAR(255),\n    organization_id   VARCHAR(255),\n    -- Only indexed, not-to-be-removed entries are served by search.\n    is_indexed        BOOLEAN DEFAULT FALSE,\n    is_to_remove      BOOLEAN DEFAULT FALSE,\n    index_updated_at  TIMESTAMP WITH TIME ZONE,\n    metadata          JSONB,\n    session_time      TIMESTAMP WITH TIME ZONE,\n    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)\n);\n\nCREATE INDEX IF NOT EXISTS idx_knowledge_entity_id ON knowledge_entities (entity_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_session ON knowledge_entities (source_session_id);\nCREATE INDEX IF NOT EXISTS idx_knowledge_level ON knowledge_entities (level);\nCREATE INDEX IF NOT EXISTS idx_knowledge_user ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_org ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL;\nCREATE INDEX IF NOT EXISTS idx_knowledge_indexed ON knowledge_entities (is_indexed);\nCREATE INDEX IF NOT EXISTS idx_knowledge_to_remove ON knowledge_entities (is_to_remove);\n\n-- Nearest-neighbour search by cosine distance (`embedding <=> $1`), as deployed: ivfflat with\n-- 100 lists. Built here on an empty table, ivfflat's cluster centres mean nothing (they are\n-- computed from the rows present at build time); 005_hnsw_vector_indexes replaces these three\n-- with HNSW on every database, fresh or deployed. They stay ivfflat here so that this file\n-- builds exactly what deployed databases have, and a later file can name them on both.\nCREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WITH (lists = 100);\n-- Search serves only indexed, live entries of one visibility level; partial indexes whose\n-- predicates match the query's let the planner search just those rows.\nCREATE INDEX IF NOT EXISTS idx_knowledge_public_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;\nCREATE INDEX IF NOT EXISTS idx_knowledge_org_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;\n\nCREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n);\n\nCREATE INDEX IF NOT EXISTS idx_feedback_knowledge ON knowledge_feedback (knowledge_id);\nCREATE INDEX IF NOT EXISTS idx_feedback_user ON knowledge_feedback (user_id);\n\nINSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "141fbec156911ecaee6fc1f8ef6153124f402474231fb7aaa03b4c5f5fdfdeee",
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
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_entity_id ON knowledge_entities (entity_id)",
     "start": 1502,
     "line": 33,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_session ON knowledge_entities (source_session_id)",
     "start": 1588,
     "line": 34,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_level ON knowledge_entities (level)",
     "start": 1680,
     "line": 35,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_user ON knowledge_entities (user_id)\n    WHERE user_id IS NOT NULL",
     "start": 1758,
     "line": 36,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_org ON knowledge_entities (organization_id)\n    WHERE organization_id IS NOT NULL",
     "start": 1867,
     "line": 38,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_indexed ON knowledge_entities (is_indexed)",
     "start": 1991,
     "line": 40,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_to_remove ON knowledge_entities (is_to_remove)",
     "start": 2076,
     "line": 41,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WITH (lists = 100)",
     "start": 2629,
     "line": 48,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_public_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 2937,
     "line": 53,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_knowledge_org_embedding ON knowledge_entities\n    USING ivfflat (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 3140,
     "line": 56,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ]
    },
    {
     "text": "CREATE TABLE IF NOT EXISTS knowledge_feedback (\n    id              SERIAL PRIMARY KEY,\n    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,\n    user_id         VARCHAR(255) NOT NULL,\n    helpful         BOOLEAN,\n    accuracy_rating INTEGER,\n    comment         TEXT,\n    session_id      VARCHAR(255) REFERENCES sessions(id),\n    used_in_step    INTEGER,\n    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n)",
     "start": 3347,
     "line": 60,
     "column": 1,
     "kind": "CreateStmt",
     "relations": [
      "\"knowledge_feedback\"",
      "\"knowledge_entities\"",
      "\"sessions\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_feedback_knowledge ON knowledge_feedback (knowledge_id)",
     "start": 3802,
     "line": 72,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_feedback\""
     ]
    },
    {
     "text": "CREATE INDEX IF NOT EXISTS idx_feedback_user ON knowledge_feedback (user_id)",
     "start": 3890,
     "line": 73,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_feedback\""
     ]
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')\nON CONFLICT (version) DO NOTHING",
     "start": 3969,
     "line": 75,
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
     "start": 3969,
     "end": 4100,
     "description": "Knowledge base with vector search"
    }
   ]
  }
 },
 {
  "version": 5,
  "name": "005_hnsw_vector_indexes",
  "fileName": "005_hnsw_vector_indexes.sql",
  "path": "migrations/005_hnsw_vector_indexes.sql",
  "text": "-- wukong:no-transaction\n-- 005_hnsw_vector_indexes: the three cosine-distance indexes on knowledge_entities.embedding\n-- become HNSW, on every database: fresh ones (004 built ivfflat on an empty table) and\n-- deployed ones the old runner migrated (ivfflat, built whenever that ran).\n--\n-- Why HNSW: ivfflat computes its 100 cluster centres from the rows present when the index is\n-- built, so an index built on an empty or young table has meaningless clusters and poor\n-- recall until someone runs REINDEX; HNSW needs no training data, keeps its recall as rows\n-- arrive, and answers faster at equal recall (pgvector >= 0.5). The column, the operator\n-- class and the predicates stay the same, so queries are unchanged and use either kind.\n--\n-- Why without a transaction: a deployed table may hold many embeddings, and an HNSW build\n-- takes minutes there. CREATE INDEX CONCURRENTLY builds while reads and writes go on (it\n-- holds only a SHARE UPDATE EXCLUSIVE lock); DROP INDEX CONCURRENTLY waits for running\n-- queries instead of blocking new ones. Each statement runs and commits on its own, so\n-- every one is idempotent: re-running the file after an interruption finishes the job.\n-- The new indexes are built before the old ones are dropped, so search always has one.\n\n-- An interrupted CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would\n-- then keep for good. Drop such leftovers first (a plain DROP: it holds its lock for\n-- milliseconds, and a concurrent DROP cannot run in a DO block); valid indexes are kept.\nDO $$\nDECLARE\n    leftover regclass;\nBEGIN\n    FOR leftover IN\n        SELECT i.indexrelid::regclass\n        FROM pg_index i\n        JOIN pg_class c ON c.oid = i.indexrelid\n        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()\n        WHERE NOT i.indisvalid\n          AND c.relname IN ('idx_knowledge_embedding_hnsw', 'idx_knowledge_public_embedding_hnsw',\n                            'idx_knowledge_org_embedding_hnsw')\n    LOOP\n        EXECUTE format('DROP INDEX %s', leftover);\n    END LOOP;\nEND\n$$;\n\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_public_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_org_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;\n\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_embedding;\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_public_embedding;\nDROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_org_embedding;\n\n-- The old runner's convention; through the migration provider its own row replaces it.\nINSERT INTO schema_versions (version, description) VALUES (5, 'HNSW vector indexes')\nON CONFLICT (version) DO NOTHING;\n",
  "checksum": "a9a5f43294f18b9b6594d736b554f260e0f949653dcdb9df739af77cff8db4a1",
  "description": "HNSW vector indexes",
  "sql": {
   "statements": [
    {
     "text": "DO $$\nDECLARE\n    leftover regclass;\nBEGIN\n    FOR leftover IN\n        SELECT i.indexrelid::regclass\n        FROM pg_index i\n        JOIN pg_class c ON c.oid = i.indexrelid\n        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()\n        WHERE NOT i.indisvalid\n          AND c.relname IN ('idx_knowledge_embedding_hnsw', 'idx_knowledge_public_embedding_hnsw',\n                            'idx_knowledge_org_embedding_hnsw')\n    LOOP\n        EXECUTE format('DROP INDEX %s', leftover);\n    END LOOP;\nEND\n$$",
     "start": 1549,
     "line": 22,
     "column": 1,
     "kind": "DoStmt",
     "relations": []
    },
    {
     "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)",
     "start": 2086,
     "line": 40,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ],
     "concurrentIndex": {
      "name": "idx_knowledge_embedding_hnsw",
      "table": "\"knowledge_entities\""
     }
    },
    {
     "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_public_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 2223,
     "line": 42,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ],
     "concurrentIndex": {
      "name": "idx_knowledge_public_embedding_hnsw",
      "table": "\"knowledge_entities\""
     }
    },
    {
     "text": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_org_embedding_hnsw ON knowledge_entities\n    USING hnsw (embedding vector_cosine_ops)\n    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE",
     "start": 2441,
     "line": 45,
     "column": 1,
     "kind": "IndexStmt",
     "relations": [
      "\"knowledge_entities\""
     ],
     "concurrentIndex": {
      "name": "idx_knowledge_org_embedding_hnsw",
      "table": "\"knowledge_entities\""
     }
    },
    {
     "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_embedding",
     "start": 2663,
     "line": 49,
     "column": 1,
     "kind": "DropStmt",
     "relations": []
    },
    {
     "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_public_embedding",
     "start": 2722,
     "line": 50,
     "column": 1,
     "kind": "DropStmt",
     "relations": []
    },
    {
     "text": "DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_org_embedding",
     "start": 2788,
     "line": 51,
     "column": 1,
     "kind": "DropStmt",
     "relations": []
    },
    {
     "text": "INSERT INTO schema_versions (version, description) VALUES (5, 'HNSW vector indexes')\nON CONFLICT (version) DO NOTHING",
     "start": 2940,
     "line": 54,
     "column": 1,
     "kind": "InsertStmt",
     "relations": [
      "\"schema_versions\""
     ]
    }
   ],
   "transactional": false,
   "ownTimeouts": false,
   "createsTemporary": false,
   "ledgerInserts": [
    {
     "start": 2940,
     "end": 3057,
     "description": "HNSW vector indexes"
    }
   ]
  }
 }
]
