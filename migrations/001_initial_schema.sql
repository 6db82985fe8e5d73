-- 001_initial_schema: the agent's core tables — sessions, their steps, todos and checkpoints.
--
-- Exactly the schema deployed Wukong databases already run: same tables, columns, types,
-- nullability, defaults, constraint and index names, so agent code works on both, an existing
-- database is adopted without re-running this file, and later files can name any object. IF NOT EXISTS everywhere keeps the file
-- harmless if it ever meets a database the old runner half-built.

-- pgvector: 004_knowledge_base stores embeddings. Enabled here, first, so that a server
-- without the extension fails on the first file rather than after three of them applied.
CREATE EXTENSION IF NOT EXISTS vector;

-- The version ledger. The migration runner adds its own bookkeeping columns (checksum,
-- file_name, …) but never renames or drops these three, which deployed code reads.
CREATE TABLE IF NOT EXISTS schema_versions (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- One agent run. Sub-agents are sessions too, linked to their parent; depth bounds recursion.
CREATE TABLE IF NOT EXISTS sessions (
    id                           VARCHAR(255) PRIMARY KEY,
    goal                         TEXT NOT NULL,
    initial_goal                 TEXT,
    status                       VARCHAR(50) DEFAULT 'active',
    user_id                      VARCHAR(255),
    api_key                      VARCHAR(255),
    organization_id              VARCHAR(255),
    agent_type                   VARCHAR(100) DEFAULT 'InteractiveAgent',
    auto_run                     BOOLEAN DEFAULT FALSE,
    tools_config                 JSONB,
    parent_session_id            VARCHAR(255) REFERENCES sessions(id),
    depth                        INTEGER DEFAULT 0,
    inherited_context            TEXT,
    result_summary               TEXT,
    is_sub_agent                 BOOLEAN DEFAULT FALSE,
    -- Context compression: steps up to this id are folded into compressed_summary (-1: none).
    last_compressed_step_id      INTEGER DEFAULT -1,
    compressed_summary           TEXT,
    is_compressing               BOOLEAN DEFAULT FALSE,
    compressing_started_at       TIMESTAMP WITH TIME ZONE,
    is_running                   BOOLEAN DEFAULT TRUE,
    is_deleted                   BOOLEAN DEFAULT FALSE,
    last_knowledge_extraction_at TIMESTAMP WITH TIME ZONE,
    share_secret_key             VARCHAR(255) UNIQUE,
    created_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at                   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT chk_session_depth CHECK (depth >= 0 AND depth <= 10)
);

CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_parent_session_id ON sessions (parent_session_id);
CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions (status);
CREATE INDEX IF NOT EXISTS idx_sessions_is_running ON sessions (is_running);
CREATE INDEX IF NOT EXISTS idx_sessions_depth ON sessions (depth);
-- Share links look sessions up by key; most sessions have none.
CREATE INDEX IF NOT EXISTS idx_sessions_share_key ON sessions (share_secret_key)
    WHERE share_secret_key IS NOT NULL;
-- The session list: a user's live sessions, most recently touched first.
CREATE INDEX IF NOT EXISTS idx_sessions_user_updated ON sessions (user_id, updated_at DESC)
    WHERE is_deleted = FALSE;

-- One step of a session: the prompt, the model's answer, the tool it chose and the outcome.
CREATE TABLE IF NOT EXISTS steps (
    id                    SERIAL PRIMARY KEY,
    session_id            VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    step_number           INTEGER NOT NULL,
    llm_prompt            TEXT,
    llm_response          TEXT,
    action                VARCHAR(100) NOT NULL,
    reasoning             TEXT,
    selected_tool         VARCHAR(255),
    parameters            JSONB,
    step_result           TEXT,
    error_message         TEXT,
    status                VARCHAR(50) DEFAULT 'pending',
    -- Discarded steps stay for the record but drop out of the session's context.
    discarded             BOOLEAN DEFAULT FALSE,
    is_parallel           BOOLEAN DEFAULT FALSE,
    wait_strategy         VARCHAR(50),
    parallel_status       VARCHAR(50),
    started_at            TIMESTAMP WITH TIME ZONE,
    completed_at          TIMESTAMP WITH TIME ZONE,
    execution_duration_ms INTEGER,
    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    UNIQUE (session_id, step_number),
    CONSTRAINT chk_step_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))
);

CREATE INDEX IF NOT EXISTS idx_steps_session_id ON steps (session_id);
CREATE INDEX IF NOT EXISTS idx_steps_status ON steps (status);
CREATE INDEX IF NOT EXISTS idx_steps_is_parallel ON steps (is_parallel);
CREATE INDEX IF NOT EXISTS idx_steps_discarded ON steps (discarded);
CREATE INDEX IF NOT EXISTS idx_steps_action ON steps (action);
-- Building a session's context reads its live steps in order.
CREATE INDEX IF NOT EXISTS idx_steps_session_active ON steps (session_id, step_number)
    WHERE discarded = FALSE;

-- The agent's plan: ordered todos with dependencies and their estimated and actual cost.
CREATE TABLE IF NOT EXISTS todos (
    id               VARCHAR(255) PRIMARY KEY,
    session_id       VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    description      TEXT,
    order_index      INTEGER NOT NULL,
    status           VARCHAR(50) DEFAULT 'pending',
    dependencies     JSONB,
    priority         INTEGER DEFAULT 0,
    estimated_steps  INTEGER,
    actual_steps     INTEGER DEFAULT 0,
    estimated_tokens INTEGER,
    actual_tokens    INTEGER DEFAULT 0,
    result           JSONB,
    error            TEXT,
    started_at       TIMESTAMP WITH TIME ZONE,
    completed_at     TIMESTAMP WITH TIME ZONE,
    duration_seconds INTEGER,
    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_todos_session_id ON todos (session_id);
CREATE INDEX IF NOT EXISTS idx_todos_status ON todos (status);
CREATE INDEX IF NOT EXISTS idx_todos_order ON todos (session_id, order_index);

-- Snapshots of a session's state to resume or branch from.
CREATE TABLE IF NOT EXISTS checkpoints (
    id              VARCHAR(255) PRIMARY KEY,
    session_id      VARCHAR(255) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name            VARCHAR(255),
    description     TEXT,
    checkpoint_type VARCHAR(50),
    session_state   JSONB NOT NULL,
    step_number     INTEGER,
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_checkpoints_session_id ON checkpoints (session_id);
CREATE INDEX IF NOT EXISTS idx_checkpoints_created_at ON checkpoints (created_at);

-- The old runner's convention, kept so that running this file by hand still records it.
-- Through the migration provider this statement is replaced by the provider's own row.
INSERT INTO schema_versions (version, description) VALUES (1, 'Initial schema: sessions, steps, todos, checkpoints')
ON CONFLICT (version) DO NOTHING;
