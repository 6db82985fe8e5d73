-- 002_parallel_execution: tool calls a step runs in parallel, one row per call.

CREATE TABLE IF NOT EXISTS parallel_tool_calls (
    id                    SERIAL PRIMARY KEY,
    step_id               INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
    -- The model's id for the call, unique within its step.
    tool_id               VARCHAR(255) NOT NULL,
    tool_name             VARCHAR(255) NOT NULL,
    parameters            JSONB NOT NULL,
    status                VARCHAR(50) DEFAULT 'pending',
    result                TEXT,
    error_message         TEXT,
    progress_percentage   INTEGER DEFAULT 0,
    status_message        TEXT,
    -- Long-running calls are tracked by the external service's own task id and status.
    external_task_id      VARCHAR(255),
    external_status       VARCHAR(100),
    started_at            TIMESTAMP WITH TIME ZONE,
    completed_at          TIMESTAMP WITH TIME ZONE,
    execution_duration_ms INTEGER,
    retry_count           INTEGER DEFAULT 0,
    max_retries           INTEGER DEFAULT 3,
    created_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at            TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    UNIQUE (step_id, tool_id),
    CONSTRAINT chk_parallel_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout'))
);

CREATE INDEX IF NOT EXISTS idx_parallel_calls_step_id ON parallel_tool_calls (step_id);
CREATE INDEX IF NOT EXISTS idx_parallel_calls_status ON parallel_tool_calls (status);
CREATE INDEX IF NOT EXISTS idx_parallel_calls_tool_id ON parallel_tool_calls (tool_id);
-- Webhooks from external services arrive with their task id; most calls have none.
CREATE INDEX IF NOT EXISTS idx_parallel_calls_external_task ON parallel_tool_calls (external_task_id)
    WHERE external_task_id IS NOT NULL;
-- "Are all of this step's calls done?"
CREATE INDEX IF NOT EXISTS idx_parallel_status_count ON parallel_tool_calls (step_id, status);

INSERT INTO schema_versions (version, description) VALUES (2, 'Parallel tool calls')
ON CONFLICT (version) DO NOTHING;
