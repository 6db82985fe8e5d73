import { type Kysely, sql } from 'kysely'

/** How big and busy a relation is (for an index: its table); `exists: false` when a pending file creates it. */
export interface RelationSize {
  readonly exists: boolean
  /** The planner's estimate (`reltuples`, or `n_live_tup` when larger). */
  readonly rows: number
  /** Table, indexes and TOAST (`pg_total_relation_size`). */
  readonly bytes: number
  /** Sequential plus index scans since the statistics were last reset. */
  readonly scans: number
  /** No pages at all: a lock on it lasts milliseconds. */
  readonly empty: boolean
  /** At least 10,000 rows or a 10 MB table. */
  readonly big: boolean
  /** At least 10,000 scans. */
  readonly busy: boolean
}

/** A relation as the catalog has it: its size, column types (`format_type`), columns proven NOT NULL. */
export interface RelationStats {
  readonly size: RelationSize
  readonly columns: Readonly<Record<string, string>>
  readonly notNull: readonly string[]
}

/**
 * One query for every relation named (quoted SQL, as `to_regclass` reads it). A NOT NULL column
 * or one with a validated `CHECK (col IS NOT NULL)` is proven: SET NOT NULL on it does not scan.
 */
export async function readRelationStats(
  db: Kysely<any>,
  names: readonly string[],
): Promise<Map<string, RelationStats>> {
  const { rows } = await sql<RelationStats & { name: string }>`
    with r as (
      select name, coalesce((select indrelid from pg_index where indexrelid = to_regclass(name)), to_regclass(name)) as rel
      from unnest(${[...new Set(names)]}::text[]) as name
    ), n as (
      select r.*, greatest(c.reltuples, s.n_live_tup, 0)::float8 as rows, coalesce(pg_relation_size(r.rel), 0) as heap,
        (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0))::float8 as scans
      from r left join pg_class c on c.oid = r.rel left join pg_stat_user_tables s on s.relid = r.rel
    )
    select name, json_build_object('exists', rel is not null, 'rows', rows,
        'bytes', coalesce(pg_total_relation_size(rel), 0), 'scans', scans, 'empty', rel is not null and heap = 0,
        'big', rows >= 10000 or heap >= 10 * 1024 * 1024, 'busy', scans >= 10000) as size,
      coalesce((select json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) from pg_attribute a
        where a.attrelid = rel and a.attnum > 0 and not a.attisdropped), '{}') as columns,
      array(select a.attname::text from pg_attribute a
        where a.attrelid = rel and a.attnum > 0 and not a.attisdropped and (a.attnotnull or exists (
          select from pg_constraint k where k.conrelid = rel and k.contype = 'c' and k.convalidated
            and pg_get_constraintdef(k.oid) = format('CHECK ((%s IS NOT NULL))', quote_ident(a.attname))))) as "notNull"
    from n`.execute(db)
  return new Map(rows.map(({ name, ...stats }) => [name, stats]))
}

/** A catalog type's text width, as the parsed types' (Infinity: text or varchar; null: not text). */
export function catalogWidth(formatted: string | undefined): number | null | undefined {
  if (formatted === undefined) return undefined
  if (formatted === 'text' || formatted === 'character varying') return Number.POSITIVE_INFINITY
  const n = /^character varying\((\d+)\)$/.exec(formatted)?.[1]
  return n ? Number(n) : null
}
