// What we rely on beyond Kysely's public API, checked by test/kysely-internals.test.ts so an upgrade fails there.
import type { DialectAdapter, Kysely } from 'kysely'

// Private in Kysely's PostgresAdapter; ours takes the same, so we and kysely-ctl exclude one another.
export const KYSELY_MIGRATION_LOCK_KEY: bigint = 3853314791062309107n

// Methods bound to the target: Kysely keeps its state in #private fields a proxy cannot reach.
export function withReplacedMember<T extends object>(target: T, member: string, value: unknown): T {
  return new Proxy(target, {
    get(object, property) {
      if (property === member) return value
      const found: unknown = Reflect.get(object, property, object)
      return typeof found === 'function' ? found.bind(object) : found
    },
  })
}

// The Migrator takes its lock through db.getExecutor().adapter, and Kysely has no public way to swap it.
export function withAdapter<DB>(db: Kysely<DB>, adapter: DialectAdapter): Kysely<DB> {
  const executor = withReplacedMember(db.getExecutor(), 'adapter', adapter)
  return withReplacedMember(db, 'getExecutor', () => executor)
}
