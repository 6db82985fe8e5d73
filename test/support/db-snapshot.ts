import { sql, type Kysely } from 'kysely'

/**
 * Everything a migration could change, as one comparable value: the user-visible catalog
 * (relations, columns, indexes, constraints, extensions) and both ledgers.
 */
export async function snapshotDatabase(db: Kysely<unknown>): Promise<string> {
  const catalog = await sql<{ line: string }>`
    select format('%s %s.%s', c.relkind, n.nspname, c.relname) as line
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    union all
    select format('col %s.%s %s %s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull)
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and a.attnum > 0 and not a.attisdropped
    union all
    select format('con %s %s', conrelid::regclass, conname) from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = 'public'
    union all
    select format('ext %s %s', extname, extversion) from pg_extension
    order by 1`.execute(db)
  const ledgers: string[] = []
  for (const table of ['schema_versions', 'kysely_migration', 'kysely_migration_lock']) {
    const exists = await sql<{ e: boolean }>`select to_regclass(${table}) is not null as e`.execute(db)
    if (exists.rows[0]?.e) {
      const rows = await sql<{ r: string }>`select t::text as r from ${sql.table(table)} t order by 1`.execute(db)
      ledgers.push(`${table}: ${rows.rows.map((r) => r.r).join(' | ')}`)
    }
  }
  return [...catalog.rows.map((r) => r.line), ...ledgers].join('\n')
}
