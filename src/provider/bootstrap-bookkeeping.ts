import { sql, type Kysely } from 'kysely'

import { kyselyBookkeepingSql } from './kysely-internals.js'
import { ensureLedgerSql } from './ledger.js'

// Kysely's own tables exactly as the Migrator would make them, then our ledger.
const BOOKKEEPING_SQL = `${kyselyBookkeepingSql()}\n${ensureLedgerSql()}`

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
