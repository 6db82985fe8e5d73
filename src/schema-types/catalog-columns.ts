import { sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from 'kysely/migration'

import type { ColumnFamily } from './column-facts.js'
import { DATABASE_COLUMNS } from './database-columns.js'

export type ColumnFactsTuple = readonly [ColumnFamily, boolean, boolean]

export type ColumnFactsByTable = Readonly<Record<string, Readonly<Record<string, ColumnFactsTuple>>>>

/** Throws on a column type no family covers, so a new kind of column cannot slip past the comparison. */
export async function readCatalogColumns(db: Kysely<any>): Promise<ColumnFactsByTable> {
  const { rows } = await sql<{ table: string; column: string; type: string; nullable: boolean; has_default: boolean }>`
    select c.relname as table, a.attname as column, t.typname as type,
           not a.attnotnull as nullable, a.atthasdef as has_default
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p')
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    join pg_type t on t.oid = a.atttypid
    where a.attnum > 0 and not a.attisdropped
      and c.relname not in (${DEFAULT_MIGRATION_TABLE}, ${DEFAULT_MIGRATION_LOCK_TABLE})
    order by c.relname, a.attnum`.execute(db)
  const facts: Record<string, Record<string, ColumnFactsTuple>> = {}
  for (const r of rows) {
    facts[r.table] ??= {}
    facts[r.table]![r.column] = [familyOf(r.type, `${r.table}.${r.column}`), r.nullable, r.has_default]
  }
  return facts
}

// int8 and numeric are not numbers: pg reads them as strings.
// biome-ignore format: one line per family
const FAMILIES: Readonly<Record<string, ColumnFamily>> = {
  varchar: 'string', text: 'string', bpchar: 'string',
  int2: 'number', int4: 'number', float4: 'number', float8: 'number',
  bool: 'boolean',
  timestamptz: 'timestamp', timestamp: 'timestamp', date: 'timestamp',
  jsonb: 'json', json: 'json',
  vector: 'vector',
}

function familyOf(type: string, column: string): ColumnFamily {
  if (Object.hasOwn(FAMILIES, type)) return FAMILIES[type]!
  throw new TypeError(
    `${column}: no TypeScript family for the column type ${type}; map it in catalog-columns.ts and column-facts.ts`,
  )
}

export function columnDifferences(expected: ColumnFactsByTable, live: ColumnFactsByTable): string[] {
  const out: string[] = []
  for (const table of new Set([...Object.keys(expected), ...Object.keys(live)])) {
    const [e, l] = [expected[table], live[table]]
    if (!e) out.push(`${table}: in the database, not in the types`)
    if (!l) out.push(`${table}: in the types, not in the database`)
    if (!e || !l) continue
    for (const column of new Set([...Object.keys(e), ...Object.keys(l)])) {
      const [te, tl] = [e[column], l[column]]
      if (!te || !tl || te.join() !== tl.join()) {
        out.push(
          `${table}.${column}: types say ${te ? te.join('/') : 'nothing'}, database says ${tl ? tl.join('/') : 'nothing'}`,
        )
      }
    }
  }
  return out.sort()
}

/**
 * What differs between `Database` and the connected database's columns: empty when code typed with it fits.
 *
 * @example
 * ```ts
 * const differences = await findSchemaDifferences(db)
 * if (differences.length) throw new Error(differences.join('\n'))
 * ```
 */
export async function findSchemaDifferences(db: Kysely<any>): Promise<string[]> {
  return columnDifferences(DATABASE_COLUMNS, await readCatalogColumns(db))
}
