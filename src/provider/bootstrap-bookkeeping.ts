import { sql, type Kysely } from 'kysely'

import { kyselyBookkeepingSql } from './kysely-internals.js'
import { ensureLedgerSql } from './ledger.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

// Kysely's own tables exactly as the Migrator would make them, then our ledger.
const BOOKKEEPING_SQL = `${kyselyBookkeepingSql()}\n${ensureLedgerSql()}`

// What a loser of a concurrent CREATE TABLE IF NOT EXISTS sees: the table's name (42P07),
// its row type (42710), or a catalog unique index (23505) taken by the winner.
const RACE_CODES: ReadonlySet<string> = new Set([
  SQLSTATE.UNIQUE_VIOLATION,
  SQLSTATE.DUPLICATE_TABLE,
  SQLSTATE.DUPLICATE_OBJECT,
])

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
      if (!RACE_CODES.has(errorCode(error) ?? '') || attempt >= 5) throw error
    }
  }
}
