import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from 'kysely/migration'
import { withReplacedMember } from './kysely-internals.js'
import { sql, type DatabaseIntrospector, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely'

/**
 * Wraps a Kysely instance for the Migrator so that its table checks cost one small query
 * instead of reading the whole catalog. Kysely's Migrator calls `introspection.getTables()`
 * only to learn whether its two bookkeeping tables exist (kysely issues #1313, #1707: that is
 * seconds to minutes on large schemas); this introspector answers exactly that question,
 * by name, through `to_regclass`, so its cost does not grow with the schema.
 *
 * With `tablesExist` (the caller has just read or created both tables) it answers without
 * a query at all.
 *
 * Only for the Migrator: anything else asking this instance for the catalog would see just
 * Kysely's tables.
 *
 * @example
 * ```ts
 * const migrator = new Migrator({ db: withMigratorIntrospection(db), provider })
 * ```
 */
export function withMigratorIntrospection<DB>(
  db: Kysely<DB>,
  options: { readonly tablesExist?: boolean } = {},
): Kysely<DB> {
  const introspection = new MigratorTablesIntrospector(db as Kysely<unknown>, options.tablesExist ?? false)
  return withReplacedMember(db, 'introspection', introspection)
}

class MigratorTablesIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>
  readonly #tablesExist: boolean

  constructor(db: Kysely<unknown>, tablesExist: boolean) {
    this.#db = db
    this.#tablesExist = tablesExist
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<SchemaMetadata>`select nspname as name from pg_namespace`.execute(this.#db)
    return rows
  }

  async getTables(): Promise<TableMetadata[]> {
    if (this.#tablesExist) {
      // The caller has just seen or made both tables: no need to ask again.
      return [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE].map((name) =>
        Object.freeze({ name, isView: false, isForeign: false, columns: [] }),
      )
    }
    const { rows } = await sql<{ name: string; schema: string }>`
      select c.relname as name, n.nspname as schema
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid in (to_regclass(${DEFAULT_MIGRATION_TABLE}), to_regclass(${DEFAULT_MIGRATION_LOCK_TABLE}))`.execute(
      this.#db,
    )
    return rows.map((r) => Object.freeze({ ...r, isView: false, isForeign: false, columns: [] }))
  }
}
