import { sql, type Kysely } from 'kysely'

/** Schemas that belong to PostgreSQL, not to anything a migration made. */
const SYSTEM = sql`(n.nspname in ('pg_catalog', 'information_schema', 'pg_toast') or n.nspname like 'pg\_temp\_%' or n.nspname like 'pg\_toast\_temp\_%')`

/**
 * Everything a migration could change in its database, as one comparable value: schemas,
 * relations (with owner and grants), columns (type, default, nullability), constraints and
 * indexes by definition (and validity), views by definition, sequences with their state,
 * functions and procedures by signature and body, triggers, rules, policies, types (enum
 * labels, domains), extensions, database-level settings, comments, and the rows of every table
 * (both ledgers in full, other tables as count and hash). Roles are cluster-wide and left out.
 *
 * @example
 * ```ts
 * const before = await snapshotDatabase(db)
 * // … a refused migration …
 * expect(await snapshotDatabase(db)).toBe(before)
 * ```
 */
export async function snapshotDatabase(db: Kysely<unknown>): Promise<string> {
  const catalog = await sql<{ line: string }>`
    select format('schema %s owner %s acl %s', n.nspname, pg_get_userbyid(n.nspowner), n.nspacl) as line
    from pg_namespace n where not ${SYSTEM}
    union all
    select format('%s %s.%s owner %s acl %s options %s', c.relkind, n.nspname, c.relname, pg_get_userbyid(c.relowner), c.relacl, c.reloptions)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where not ${SYSTEM}
    union all
    select format('col %s.%s.%s %s notnull=%s default=%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid))
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where not ${SYSTEM} and a.attnum > 0 and not a.attisdropped
    union all
    select format('con %s.%s %s on %s: %s', n.nspname, c.conname, c.contype, coalesce(c.conrelid::regclass::text, c.contypid::regtype::text), pg_get_constraintdef(c.oid))
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace where not ${SYSTEM}
    union all
    select format('index %s valid=%s ready=%s: %s', i.indexrelid::regclass, i.indisvalid, i.indisready, pg_get_indexdef(i.indexrelid))
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where not ${SYSTEM}
    union all
    select format('view %s.%s: %s', n.nspname, c.relname, pg_get_viewdef(c.oid))
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where not ${SYSTEM} and c.relkind in ('v', 'm')
    union all
    select format('seq %s.%s %s start=%s inc=%s min=%s max=%s cycle=%s last=%s', schemaname, sequencename, data_type, start_value, increment_by,
                  min_value, max_value, cycle, last_value)
    from pg_sequences where schemaname not in ('pg_catalog', 'information_schema')
    union all
    select format('func %s.%s(%s) %s returns %s lang %s volatile=%s secdef=%s config=%s body=%s', n.nspname, p.proname,
                  pg_get_function_identity_arguments(p.oid), p.prokind, pg_get_function_result(p.oid), l.lanname, p.provolatile, p.prosecdef,
                  p.proconfig, md5(coalesce(p.prosrc, '') || coalesce(pg_get_function_sqlbody(p.oid), '')))
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
    where not ${SYSTEM}
    union all
    select format('trigger %s enabled=%s: %s', t.tgname, t.tgenabled, pg_get_triggerdef(t.oid))
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where not ${SYSTEM} and not t.tgisinternal
    union all
    select format('rule %s.%s %s: %s', schemaname, tablename, rulename, definition) from pg_rules
    where schemaname not in ('pg_catalog', 'information_schema')
    union all
    select format('policy %s.%s %s %s roles=%s using=%s check=%s', schemaname, tablename, policyname, cmd, roles, qual, with_check)
    from pg_policies
    union all
    select format('type %s.%s %s owner %s labels=%s base=%s', n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner),
                  (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid),
                  t.typbasetype::regtype)
    from pg_type t join pg_namespace n on n.oid = t.typnamespace where not ${SYSTEM}
    union all
    select format('ext %s %s in %s', e.extname, e.extversion, n.nspname) from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    union all
    select format('event trigger %s %s %s', evtname, evtevent, evtenabled) from pg_event_trigger
    union all
    select format('db setting %s %s', s.setrole, s.setconfig) from pg_db_role_setting s
    where s.setdatabase = (select oid from pg_database where datname = current_database())
    union all
    select format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description) from pg_description d
    where d.objoid >= 16384
    order by 1`.execute(db)

  // Rows: the ledgers in full (readable in a diff), every other table as count and hash.
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not ${SYSTEM} order by 1, 2`.execute(db)
  const data: string[] = []
  for (const { schema, name } of tables) {
    const table = sql.table(`${schema}.${name}`)
    if (['schema_versions', 'kysely_migration', 'kysely_migration_lock'].includes(name)) {
      const { rows } = await sql<{ r: string }>`select t::text as r from ${table} t order by 1`.execute(db)
      data.push(`rows ${schema}.${name}: ${rows.map((r) => r.r).join(' | ')}`)
    } else {
      const { rows } = await sql<{ n: number; h: string | null }>`
        select count(*)::int as n, md5(string_agg(t::text, e'\n' order by t::text)) as h from ${table} t`.execute(db)
      data.push(`rows ${schema}.${name}: ${rows[0]!.n} ${rows[0]!.h ?? ''}`)
    }
  }
  return [...catalog.rows.map((r) => r.line), ...data].join('\n')
}
