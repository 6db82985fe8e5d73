import { quoteIdent } from './sql-text.js'

// Apart from the code that reads the ledgers, so that checking files loads no driver.
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

// Every table named with its schema (quoted), so search_path never decides which ledger is read or written.
export interface LedgerHome {
  readonly schema: string
  readonly ledger: string
  readonly kysely: string
  readonly lock: string
}

export function ledgerHome(schema: string): LedgerHome {
  const q = quoteIdent(schema)
  return Object.freeze({
    schema,
    ledger: `${q}.schema_versions`,
    kysely: `${q}.kysely_migration`,
    lock: `${q}.kysely_migration_lock`,
  })
}
