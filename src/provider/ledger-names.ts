import { quoteIdent } from './sql-text.js'

// The ledgers' names, apart from the code that reads them, so that checking files loads no driver.

/** The bookkeeping tables: our ledger, then Kysely's two. Files may not touch them. */
export const LEDGER_TABLES: readonly string[] = Object.freeze([
  'schema_versions',
  'kysely_migration',
  'kysely_migration_lock',
])

/** The schema that holds the package's own ledgers unless they already exist elsewhere. */
export const DEFAULT_LEDGER_SCHEMA = 'public'

/** The comment that marks a migration set's own ledger (one given a `ledgerSchema`). */
export const SET_MARK = 'wukong-migrate: the ledger of the migration set in this schema'

/**
 * Where the ledgers live: one schema, found once per run, and every table named with it, so a
 * connection's `search_path` never decides which ledger is read or written.
 */
export interface LedgerHome {
  readonly schema: string
  /** `schema_versions`, quoted and schema-qualified. */
  readonly ledger: string
  /** `kysely_migration`, quoted and schema-qualified. */
  readonly kysely: string
  /** `kysely_migration_lock`, quoted and schema-qualified. */
  readonly lock: string
}

/** The ledgers of one home, named with their schema. */
export function ledgerHome(schema: string): LedgerHome {
  const q = quoteIdent(schema)
  return Object.freeze({
    schema,
    ledger: `${q}.schema_versions`,
    kysely: `${q}.kysely_migration`,
    lock: `${q}.kysely_migration_lock`,
  })
}
