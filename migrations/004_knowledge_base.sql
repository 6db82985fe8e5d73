-- 004_knowledge_base: knowledge extracted from sessions, searchable by embedding, and the
-- feedback users give on it.

CREATE TABLE IF NOT EXISTS knowledge_entities (
    id                SERIAL PRIMARY KEY,
    entity_id         VARCHAR(255) NOT NULL UNIQUE,
    -- Knowledge outlives the session it came from.
    source_session_id VARCHAR(255) REFERENCES sessions(id) ON DELETE SET NULL,
    source_type       VARCHAR(50) DEFAULT 'conversation',
    content           TEXT NOT NULL,
    -- OpenAI text-embedding-3-small / ada-002 dimensions.
    embedding         vector(1536),
    -- Who may see it: 'public', 'organization' or 'user' (no CHECK, as deployed).
    level             VARCHAR(50) NOT NULL,
    category          VARCHAR(100),
    tags              JSONB,
    confidence_score  DOUBLE PRECISION DEFAULT 0.5,
    usage_count       INTEGER DEFAULT 0,
    last_used_at      TIMESTAMP WITH TIME ZONE,
    user_id           VARCHAR(255),
    organization_id   VARCHAR(255),
    -- Only indexed, not-to-be-removed entries are served by search.
    is_indexed        BOOLEAN DEFAULT FALSE,
    is_to_remove      BOOLEAN DEFAULT FALSE,
    index_updated_at  TIMESTAMP WITH TIME ZONE,
    metadata          JSONB,
    session_time      TIMESTAMP WITH TIME ZONE,
    created_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at        TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT chk_knowledge_confidence CHECK (confidence_score >= 0.0 AND confidence_score <= 1.0)
);

CREATE INDEX IF NOT EXISTS idx_knowledge_entity_id ON knowledge_entities (entity_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_session ON knowledge_entities (source_session_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_level ON knowledge_entities (level);
CREATE INDEX IF NOT EXISTS idx_knowledge_user ON knowledge_entities (user_id)
    WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_knowledge_org ON knowledge_entities (organization_id)
    WHERE organization_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_knowledge_indexed ON knowledge_entities (is_indexed);
CREATE INDEX IF NOT EXISTS idx_knowledge_to_remove ON knowledge_entities (is_to_remove);

-- Nearest-neighbour search by cosine distance (`embedding <=> $1`), as deployed: ivfflat with
-- 100 lists. Built here on an empty table, ivfflat's cluster centres mean nothing (they are
-- computed from the rows present at build time); 005_hnsw_vector_indexes replaces these three
-- with HNSW on every database, fresh or deployed. They stay ivfflat here so that this file
-- builds exactly what deployed databases have, and a later file can name them on both.
CREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge_entities
    USING ivfflat (embedding vector_cosine_ops)
    WITH (lists = 100);
-- Search serves only indexed, live entries of one visibility level; partial indexes whose
-- predicates match the query's let the planner search just those rows.
CREATE INDEX IF NOT EXISTS idx_knowledge_public_embedding ON knowledge_entities
    USING ivfflat (embedding vector_cosine_ops)
    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;
CREATE INDEX IF NOT EXISTS idx_knowledge_org_embedding ON knowledge_entities
    USING ivfflat (embedding vector_cosine_ops)
    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;

CREATE TABLE IF NOT EXISTS knowledge_feedback (
    id              SERIAL PRIMARY KEY,
    knowledge_id    INTEGER NOT NULL REFERENCES knowledge_entities(id) ON DELETE CASCADE,
    user_id         VARCHAR(255) NOT NULL,
    helpful         BOOLEAN,
    accuracy_rating INTEGER,
    comment         TEXT,
    session_id      VARCHAR(255) REFERENCES sessions(id),
    used_in_step    INTEGER,
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX IF NOT EXISTS idx_feedback_knowledge ON knowledge_feedback (knowledge_id);
CREATE INDEX IF NOT EXISTS idx_feedback_user ON knowledge_feedback (user_id);

INSERT INTO schema_versions (version, description) VALUES (4, 'Knowledge base with vector search')
ON CONFLICT (version) DO NOTHING;
