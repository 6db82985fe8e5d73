import { LEDGER_TABLES } from '../provider/ledger.js'
import { sql, type Kysely } from 'kysely'

/** In the order a group's differences are listed: what others depend on first. */
// biome-ignore format: a list of sixteen
export const SCHEMA_OBJECT_KINDS = ['extension', 'schema', 'enum', 'domain', 'sequence', 'table', 'column',
  'constraint', 'index', 'trigger', 'policy', 'view', 'materialized view', 'function', 'procedure',
  'aggregate'] as const

export type SchemaObjectKind = (typeof SCHEMA_OBJECT_KINDS)[number]

/** One fact about an object, as the server renders it (definitions are its own canonical text). */
export type SchemaFact = string | number | boolean | null | readonly string[]

/** The facts compared for one object, e.g. `{ type: 'integer', notNull: true, default: '0' }`. */
export type SchemaFacts = Readonly<Record<string, SchemaFact>>

export interface SchemaObject {
  readonly kind: SchemaObjectKind
  readonly schema: string | null
  /** `schema.table` for the parts of a table (an owned sequence too), so they group under it. */
  readonly table: string | null
  /** A function's includes its argument types, as overloads are different objects. */
  readonly name: string
  /** Null where ownership follows another object (a column, an index). */
  readonly owner: string | null
  readonly facts: SchemaFacts
}

export interface SchemaCatalog {
  readonly objects: readonly SchemaObject[]
}

const LEDGERS = `array[${LEDGER_TABLES.map((t) => `'${t}'`).join(', ')}]::text[]`

// The server's deparsed definitions, so statements of one meaning compare equal; extensions by version only.
const CATALOG_SQL = `
with user_ns as (
  select oid, nspname from pg_namespace
  where nspname not in ('pg_catalog', 'information_schema') and nspname !~ '^pg_(toast|temp_|toast_temp_)'
),
rels as (
  select c.oid, c.relname, c.relkind, n.nspname, c.relowner, c.relpersistence, c.reloptions, c.relrowsecurity
  from pg_class c join user_ns n on n.oid = c.relnamespace
  where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
),
tabs as (
  select * from rels where relkind in ('r', 'p', 'f') and not (relname = any(${LEDGERS}))
),
-- A sequence's owning table and column (serial, identity or OWNED BY).
seq_owners as (
  select d.objid as seq, otn.nspname, ot.relname, oa.attname
  from pg_depend d
  join pg_class ot on ot.oid = d.refobjid join pg_namespace otn on otn.oid = ot.relnamespace
  left join pg_attribute oa on oa.attrelid = d.refobjid and oa.attnum = d.refobjsubid
  where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
),
objects as (
  select 'extension' as kind, null::text as schema, null::text as tbl, e.extname::text as name, null::text as owner,
         jsonb_build_object('version', e.extversion, 'schema', n.nspname) as facts
  from pg_extension e join pg_namespace n on n.oid = e.extnamespace
  union all
  select 'schema', null, null, nspname, null, '{}'::jsonb from user_ns
  union all
  select 'table', t.nspname, null, t.relname, pg_get_userbyid(t.relowner),
         jsonb_build_object(
           'kind', case t.relkind when 'p' then 'partitioned' when 'f' then 'foreign' else 'ordinary' end,
           'unlogged', t.relpersistence = 'u',
           'options', coalesce(array_to_string(t.reloptions, ', '), ''),
           'rowSecurity', t.relrowsecurity)
  from tabs t
  union all
  select 'column', t.nspname, t.nspname || '.' || t.relname, a.attname, null,
         jsonb_build_object(
           'type', format_type(a.atttypid, a.atttypmod),
           'notNull', a.attnotnull,
           'default', case when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid) end,
           'identity', case a.attidentity when 'a' then 'always' when 'd' then 'by default' else '' end,
           'generated', case when a.attgenerated <> '' then pg_get_expr(d.adbin, d.adrelid) else '' end,
           'collation', case when a.attcollation <> ty.typcollation
                             then coalesce((select collname from pg_collation where oid = a.attcollation), '')
                             else '' end)
  from tabs t
  join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_type ty on ty.oid = a.atttypid
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  union all
  select 'constraint', t.nspname, t.nspname || '.' || t.relname, k.conname, null,
         jsonb_build_object(
           'type', case k.contype when 'p' then 'primary key' when 'u' then 'unique' when 'f' then 'foreign key'
                   when 'c' then 'check' when 'x' then 'exclusion' else k.contype::text end,
           'definition', pg_get_constraintdef(k.oid),
           'validated', k.convalidated)
  from pg_constraint k join tabs t on t.oid = k.conrelid
  -- NOT NULL is a column fact; PostgreSQL 18 also lists it here (contype 'n'), earlier ones do not.
  where k.contype <> 'n'
  union all
  select 'index', n.nspname, n.nspname || '.' || r.relname, c.relname, null,
         jsonb_build_object(
           'method', am.amname,
           'definition', pg_get_indexdef(i.indexrelid),
           'valid', i.indisvalid,
           'ready', i.indisready)
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_am am on am.oid = c.relam
  join rels r on r.oid = i.indrelid
  join user_ns n on n.oid = c.relnamespace
  where not (r.relkind in ('r', 'p', 'f') and r.relname = any(${LEDGERS}))
  union all
  select 'sequence', s.nspname, o.nspname || '.' || o.relname, s.relname, pg_get_userbyid(s.relowner),
         jsonb_build_object(
           'type', format_type(q.seqtypid, null),
           'start', q.seqstart::text, 'increment', q.seqincrement::text,
           'min', q.seqmin::text, 'max', q.seqmax::text, 'cache', q.seqcache::text, 'cycle', q.seqcycle,
           'ownedBy', coalesce(o.relname || '.' || o.attname, ''))
  from rels s join pg_sequence q on q.seqrelid = s.oid
  left join lateral (select * from seq_owners where seq = s.oid limit 1) o on true
  where s.relkind = 'S' and not coalesce(o.relname = any(${LEDGERS}), false)
  union all
  select case v.relkind when 'm' then 'materialized view' else 'view' end, v.nspname, null, v.relname,
         pg_get_userbyid(v.relowner),
         jsonb_build_object('definition', pg_get_viewdef(v.oid, true),
                            'options', coalesce(array_to_string(v.reloptions, ', '), ''))
  from rels v where v.relkind in ('v', 'm')
  union all
  select case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end, n.nspname, null,
         p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner),
         case when p.prokind = 'a'
              then jsonb_build_object('returns', pg_get_function_result(p.oid))
              else jsonb_build_object('definition', pg_get_functiondef(p.oid)) end
  from pg_proc p join user_ns n on n.oid = p.pronamespace
  where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  union all
  select 'trigger', t.nspname, t.nspname || '.' || t.relname, g.tgname, null,
         jsonb_build_object(
           'definition', pg_get_triggerdef(g.oid),
           'enabled', case g.tgenabled when 'O' then 'origin' when 'D' then 'disabled'
                                       when 'R' then 'replica' when 'A' then 'always' end)
  from pg_trigger g join tabs t on t.oid = g.tgrelid
  where not g.tgisinternal
  union all
  select 'policy', t.nspname, t.nspname || '.' || t.relname, p.polname, null,
         jsonb_build_object(
           'command', p.polcmd::text, 'permissive', p.polpermissive,
           'roles', (select coalesce(jsonb_agg(case when r = 0 then 'public' else pg_get_userbyid(r) end
                                               order by 1), '[]')
                     from unnest(p.polroles) r),
           'using', coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
           'withCheck', coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
  from pg_policy p join tabs t on t.oid = p.polrelid
  union all
  select case ty.typtype when 'e' then 'enum' else 'domain' end, n.nspname, null, ty.typname,
         pg_get_userbyid(ty.typowner),
         case when ty.typtype = 'e'
              then jsonb_build_object('values', (select jsonb_agg(e.enumlabel order by e.enumsortorder)
                                                 from pg_enum e where e.enumtypid = ty.oid))
              else jsonb_build_object(
                'type', format_type(ty.typbasetype, ty.typtypmod),
                'notNull', ty.typnotnull,
                'default', ty.typdefault,
                'constraints', (select coalesce(jsonb_agg(k.conname || ' ' || pg_get_constraintdef(k.oid)
                                                          order by k.conname), '[]')
                                from pg_constraint k where k.contypid = ty.oid)) end
  from pg_type ty join user_ns n on n.oid = ty.typnamespace
  where ty.typtype in ('e', 'd')
    and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_type'::regclass and d.objid = ty.oid and d.deptype = 'e')
)
select kind, schema, tbl as "table", name, owner, facts from objects`

/** ONE query, so the catalog is one snapshot; only reads (run it in a read-only transaction). */
export async function readSchemaCatalog<DB>(db: Kysely<DB>): Promise<SchemaCatalog> {
  const { rows } = await sql.raw<SchemaObject>(CATALOG_SQL).execute(db)
  return Object.freeze({
    objects: Object.freeze(rows.map((r) => Object.freeze({ ...r, facts: Object.freeze(r.facts) }))),
  })
}
