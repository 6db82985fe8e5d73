-- 003_agent_fork: tasks a session forks to a sub-agent (which runs as its own session).

CREATE TABLE IF NOT EXISTS fork_agent_tasks (
    id                    VARCHAR(255) PRIMARY KEY,
    -- No ON DELETE here, as deployed: a parent with fork tasks cannot be deleted by accident.
    parent_session_id     VARCHAR(255) NOT NULL REFERENCES sessions(id),
    parent_step_id        INTEGER REFERENCES steps(id),
    sub_session_id        VARCHAR(255) REFERENCES sessions(id),
    goal                  TEXT NOT NULL,
    context_summary       TEXT,
    depth                 INTEGER NOT NULL,
    max_steps             INTEGER DEFAULT 20,
    timeout_seconds       INTEGER DEFAULT 300,
    status                VARCHAR(50) DEFAULT 'pending',
    result_summary        TEXT,
    error_message         TEXT,
    steps_executed        INTEGER DEFAULT 0,
    tokens_used           INTEGER DEFAULT 0,
    tools_called          INTEGER DEFAULT 0,
    started_at            TIMESTAMP WITH TIME ZONE,
    completed_at          TIMESTAMP WITH TIME ZONE,
    execution_duration_ms INTEGER,
    retry_count           INTEGER DEFAULT 0,
    max_retries           INTEGER DEFAULT 3,
    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_fork_tasks_parent_session ON fork_agent_tasks (parent_session_id);
CREATE INDEX IF NOT EXISTS idx_fork_tasks_sub_session ON fork_agent_tasks (sub_session_id);
CREATE INDEX IF NOT EXISTS idx_fork_tasks_status ON fork_agent_tasks (status);
CREATE INDEX IF NOT EXISTS idx_fork_tasks_depth ON fork_agent_tasks (depth);

INSERT INTO schema_versions (version, description) VALUES (3, 'Agent fork tasks')
ON CONFLICT (version) DO NOTHING;
