-- wukong:no-transaction
-- 005_hnsw_vector_indexes: the three cosine-distance indexes on knowledge_entities.embedding
-- become HNSW, on every database: fresh ones (004 built ivfflat on an empty table) and
-- deployed ones the old runner migrated (ivfflat, built whenever that ran).
--
-- Why HNSW: ivfflat computes its 100 cluster centres from the rows present when the index is
-- built, so an index built on an empty or young table has meaningless clusters and poor
-- recall until someone runs REINDEX; HNSW needs no training data, keeps its recall as rows
-- arrive, and answers faster at equal recall (pgvector >= 0.5). The column, the operator
-- class and the predicates stay the same, so queries are unchanged and use either kind.
--
-- Why without a transaction: a deployed table may hold many embeddings, and an HNSW build
-- takes minutes there. CREATE INDEX CONCURRENTLY builds while reads and writes go on (it
-- holds only a SHARE UPDATE EXCLUSIVE lock); DROP INDEX CONCURRENTLY waits for running
-- queries instead of blocking new ones. Each statement runs and commits on its own, so
-- every one is idempotent: re-running the file after an interruption finishes the job.
-- The new indexes are built before the old ones are dropped, so search always has one.

-- An interrupted CONCURRENTLY build leaves an INVALID index behind, which IF NOT EXISTS would
-- then keep for good. Drop such leftovers first (a plain DROP: it holds its lock for
-- milliseconds, and a concurrent DROP cannot run in a DO block); valid indexes are kept.
DO $$
DECLARE
    leftover regclass;
BEGIN
    FOR leftover IN
        SELECT i.indexrelid::regclass
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
        WHERE NOT i.indisvalid
          AND c.relname IN ('idx_knowledge_embedding_hnsw', 'idx_knowledge_public_embedding_hnsw',
                            'idx_knowledge_org_embedding_hnsw')
    LOOP
        EXECUTE format('DROP INDEX %s', leftover);
    END LOOP;
END
$$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_embedding_hnsw ON knowledge_entities
    USING hnsw (embedding vector_cosine_ops);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_public_embedding_hnsw ON knowledge_entities
    USING hnsw (embedding vector_cosine_ops)
    WHERE level = 'public' AND is_indexed = TRUE AND is_to_remove = FALSE;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_knowledge_org_embedding_hnsw ON knowledge_entities
    USING hnsw (embedding vector_cosine_ops)
    WHERE level = 'organization' AND is_indexed = TRUE AND is_to_remove = FALSE;

DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_embedding;
DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_public_embedding;
DROP INDEX CONCURRENTLY IF EXISTS idx_knowledge_org_embedding;

-- The old runner's convention; through the migration provider its own row replaces it.
INSERT INTO schema_versions (version, description) VALUES (5, 'HNSW vector indexes')
ON CONFLICT (version) DO NOTHING;
