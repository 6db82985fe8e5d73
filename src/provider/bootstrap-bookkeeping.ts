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

// What a loser of a concurrent CREATE TABLE IF NOT EXISTS sees: the table's name (42P07),
// its row type (42710), or a catalog unique index (23505) taken by the winner.
const RACE_CODES = new Set(['23505', '42P07', '42710'])

/**
 * Creates Kysely's two tables, its lock row and the `schema_versions` ledger in ONE round
 * trip, idempotently. Concurrent migrators may race on `CREATE TABLE IF NOT EXISTS` (it is
 * not atomic in PostgreSQL); the loser retries, by when the winner has committed.
 *
 * @example
 * ```ts
 * await bootstrapBookkeeping(db)
 * ```
 */
export async function bootstrapBookkeeping(db: Kysely<any>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sql.raw(BOOKKEEPING_SQL).execute(db)
      return
    } catch (error) {
      if (!RACE_CODES.has((error as { code?: string }).code ?? '') || attempt >= 5) throw error
    }
  }
}
