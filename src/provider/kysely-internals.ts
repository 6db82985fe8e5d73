/**
 * Everything this package relies on in Kysely that is not Kysely's public, documented API,
 * in one place. Each item is checked against the installed Kysely by
 * `test/kysely-internals.test.ts`, so an upgrade that changes one fails loudly there instead
 * of silently in a deploy.
 *
 * 1. {@link KYSELY_MIGRATION_LOCK_KEY}: the advisory-lock key of Kysely's `PostgresAdapter`
 *    (private in Kysely). Our transaction-scoped lock takes the same key, so our migrators and
 *    stock Kysely migrators (kysely-ctl) exclude one another.
 * 2. `ensureLedgersSql` (ledger.ts) creates Kysely's two tables and its lock row as its Migrator does.
 * 3. {@link withReplacedMember}: a view of a Kysely object with one member replaced. Kysely
 *    offers no public way to give an existing instance another introspector (the Migrator only
 *    asks it whether its two tables exist) or another adapter (the migration lock lives there).
 *    {@link withAdapter} uses it for the adapter.
 */
import type { DialectAdapter, Kysely } from 'kysely'

/** The key Kysely's `PostgresAdapter.acquireMigrationLock` passes to `pg_advisory_lock`. */
export const KYSELY_MIGRATION_LOCK_KEY: bigint = 3853314791062309107n

/**
 * A view of `target` (a `Kysely` instance or its executor) whose `member` is `value`; every
 * other property is the target's, methods bound to it, because Kysely's classes keep their
 * state in `#private` fields that a proxy cannot reach.
 */
export function withReplacedMember<T extends object>(target: T, member: string, value: unknown): T {
  return new Proxy(target, {
    get(object, property) {
      if (property === member) return value
      const found: unknown = Reflect.get(object, property, object)
      return typeof found === 'function' ? found.bind(object) : found
    },
  })
}

/**
 * `db` with its executor's adapter replaced: the Migrator takes its lock through
 * `db.getExecutor().adapter.acquireMigrationLock`. Queries, pool and `destroy()` stay `db`'s.
 */
export function withAdapter<DB>(db: Kysely<DB>, adapter: DialectAdapter): Kysely<DB> {
  const executor = withReplacedMember(db.getExecutor(), 'adapter', adapter)
  return withReplacedMember(db, 'getExecutor', () => executor)
}
