/**
 * Everything this package relies on in Kysely that is not Kysely's public, documented API,
 * in one place. Each item is checked against the installed Kysely by
 * `test/kysely-internals.test.ts`, so an upgrade that changes one fails loudly there instead
 * of silently in a deploy.
 *
 * 1. {@link KYSELY_MIGRATION_LOCK_KEY}: the advisory-lock key of Kysely's `PostgresAdapter`
 *    (private in Kysely). Our transaction-scoped lock takes the same key, so our migrators and
 *    stock Kysely migrators (kysely-ctl) exclude one another.
 * 2. {@link kyselyBookkeepingSql}: the DDL of the Migrator's two tables and its lock row, as
 *    Kysely's `#ensureMigrationTableExists` and friends create them, so that one round trip can
 *    create them ahead of the Migrator.
 * 3. {@link withReplacedMember}: a view of a Kysely object with one member replaced. Kysely
 *    offers no public way to give an existing instance another introspector (the Migrator only
 *    asks it whether its two tables exist) or another adapter (the migration lock lives there).
 *    {@link withAdapter} uses it for the adapter.
 * 4. {@link isMissingMigrationError} and {@link isOutOfOrderMigrationError}: Kysely reports a
 *    migration it executed and no longer finds, and a new migration that sorts before an
 *    executed one, as plain `Error`s whose message is the only mark.
 */
import type { DialectAdapter, Kysely } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, MIGRATION_LOCK_ID } from 'kysely/migration'

/**
 * The key Kysely's `PostgresAdapter.acquireMigrationLock` passes to `pg_advisory_lock`.
 *
 * @example
 * ```ts
 * sql`select pg_try_advisory_xact_lock(${sql.raw(KYSELY_MIGRATION_LOCK_KEY.toString())})`
 * ```
 */
export const KYSELY_MIGRATION_LOCK_KEY: bigint = 3853314791062309107n

/**
 * The statements Kysely's Migrator runs to create `kysely_migration`, `kysely_migration_lock`
 * and its lock row (idempotent), for PostgreSQL.
 *
 * @example
 * ```ts
 * await sql.raw(kyselyBookkeepingSql()).execute(db)
 * ```
 */
export function kyselyBookkeepingSql(): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${DEFAULT_MIGRATION_TABLE} (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL);`,
    `CREATE TABLE IF NOT EXISTS ${DEFAULT_MIGRATION_LOCK_TABLE} (id varchar(255) NOT NULL PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);`,
    `INSERT INTO ${DEFAULT_MIGRATION_LOCK_TABLE} (id, is_locked) VALUES ('${MIGRATION_LOCK_ID}', 0) ON CONFLICT (id) DO NOTHING;`,
  ].join('\n')
}

/**
 * A view of `target` (a `Kysely` instance or its executor) whose `member` is `value`; every
 * other property is the target's, methods bound to it, because Kysely's classes keep their
 * state in `#private` fields that a proxy cannot reach.
 *
 * @example
 * ```ts
 * const quiet = { getSchemas: async () => [], getTables: async () => [], getMetadata: async () => ({ tables: [] }) }
 * const db2 = withReplacedMember(db, 'introspection', quiet)
 * ```
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
 *
 * @example
 * ```ts
 * const locked = withAdapter(db, new PostgresAdapter())
 * ```
 */
export function withAdapter<DB>(db: Kysely<DB>, adapter: DialectAdapter): Kysely<DB> {
  const executor = withReplacedMember(db.getExecutor(), 'adapter', adapter)
  return withReplacedMember(db, 'getExecutor', () => executor)
}

const OUT_OF_ORDER = /^corrupted migrations: expected previously executed migration/

/**
 * Whether an error is Kysely's "expected previously executed migration …" (a new migration
 * sorts before one already executed).
 *
 * @example
 * ```ts
 * if (isOutOfOrderMigrationError(error)) console.error('renumber the new file')
 * ```
 */
export function isOutOfOrderMigrationError(error: unknown): boolean {
  return error instanceof Error && OUT_OF_ORDER.test(error.message)
}

const MISSING_MIGRATION = /^corrupted migrations: previously executed migration (\S+) is missing/

/**
 * The name in Kysely's "previously executed migration … is missing" error, or undefined for
 * any other error.
 *
 * @example
 * ```ts
 * isMissingMigrationError(new Error('corrupted migrations: previously executed migration 002_x is missing')) // '002_x'
 * ```
 */
export function isMissingMigrationError(error: unknown): string | undefined {
  return error instanceof Error ? MISSING_MIGRATION.exec(error.message)?.[1] : undefined
}
