import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, MIGRATION_LOCK_ID } from 'kysely/migration'
import { sql, type Kysely } from 'kysely'

import { ensureLedgerSql } from './ledger.js'

// Kysely's own DDL for its tables (kysely/src/migration/migrator.ts), so that a table made
// here is exactly the one the Migrator would have made.
const BOOKKEEPING_SQL = `
CREATE TABLE IF NOT EXISTS ${DEFAULT_MIGRATION_TABLE} (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL);
CREATE TABLE IF NOT EXISTS ${DEFAULT_MIGRATION_LOCK_TABLE} (id varchar(255) NOT NULL PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
INSERT INTO ${DEFAULT_MIGRATION_LOCK_TABLE} (id, is_locked) VALUES ('${MIGRATION_LOCK_ID}', 0) ON CONFLICT (id) DO NOTHING;
${ensureLedgerSql()}`

/**
 * Creates Kysely's two tables, its lock row and the `schema_versions` ledger in ONE round
 * trip, idempotently. Concurrent migrators may race on `CREATE TABLE IF NOT EXISTS` (it is
 * not atomic in PostgreSQL); the loser retries once, by when the winner has committed.
 *
 * @example
 * ```ts
 * await bootstrapBookkeeping(db)
 * ```
 */
export async function bootstrapBookkeeping(db: Kysely<unknown>): Promise<void> {
  try {
    await sql.raw(BOOKKEEPING_SQL).execute(db)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code !== '23505' && code !== '42P07') throw error
    await sql.raw(BOOKKEEPING_SQL).execute(db)
  }
}
