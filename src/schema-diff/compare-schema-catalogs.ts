import {
  SCHEMA_OBJECT_KINDS,
  type SchemaCatalog,
  type SchemaFact,
  type SchemaFacts,
  type SchemaObject,
  type SchemaObjectKind,
} from './read-schema-catalog.js'

/** `added`: only in the live database; `dropped`: only in what the files build. */
export type SchemaChange = 'added' | 'dropped' | 'changed'

export interface SchemaFactChange {
  readonly field: string
  readonly expected: SchemaFact
  readonly actual: SchemaFact
}

/** One difference between the live database and the schema its applied files build. */
export interface SchemaDifference extends Pick<SchemaObject, 'kind' | 'schema' | 'table' | 'name'> {
  readonly change: SchemaChange
  /** As the files build it. */
  readonly expected: SchemaFacts | null
  /** As the live database has it. */
  readonly actual: SchemaFacts | null
  /** Empty unless `changed`. */
  readonly fields: readonly SchemaFactChange[]
}

// A table's parts are listed on their own only when the table is in both: else the table says it all.
const TABLE_PARTS = new Set<SchemaObjectKind>(['column', 'constraint', 'index', 'trigger', 'policy', 'sequence'])
const RELATIONS = new Set<SchemaObjectKind>(['table', 'view', 'materialized view'])
// biome-ignore format: a list of nine
const OWNED = new Set<SchemaObjectKind>(['table', 'view', 'materialized view', 'sequence', 'function', 'procedure',
  'aggregate', 'enum', 'domain'])

/** An object not owned by the role that owns most tables is an `owner` change: migrations could not alter it. */
export function compareSchemaCatalogs(expected: SchemaCatalog, actual: SchemaCatalog): readonly SchemaDifference[] {
  const want = byKey(expected.objects)
  const have = byKey(actual.objects)
  const tablesInBoth = new Set(
    [...want.values()].filter((o) => RELATIONS.has(o.kind) && have.has(keyOf(o))).map((o) => `${o.schema}.${o.name}`),
  )
  const mainOwner = dominantOwner(actual.objects)
  const out: SchemaDifference[] = []
  const base = (o: SchemaObject) => ({ kind: o.kind, schema: o.schema, table: o.table, name: o.name })
  for (const [key, w] of want) {
    const h = have.get(key)
    if (!h) {
      if (!TABLE_PARTS.has(w.kind) || !w.table || tablesInBoth.has(w.table)) {
        out.push(Object.freeze({ change: 'dropped', ...base(w), expected: w.facts, actual: null, fields: [] }))
      }
      continue
    }
    const fields = factChanges(w.facts, h.facts)
    if (OWNED.has(h.kind) && mainOwner && h.owner && h.owner !== mainOwner) {
      fields.push(Object.freeze({ field: 'owner', expected: mainOwner, actual: h.owner }))
    }
    if (fields.length) {
      const facts = { expected: w.facts, actual: h.facts, fields: Object.freeze(fields) }
      out.push(Object.freeze({ change: 'changed', ...base(w), ...facts }))
    }
  }
  for (const [key, h] of have) {
    if (want.has(key)) continue
    if (TABLE_PARTS.has(h.kind) && h.table && !tablesInBoth.has(h.table)) continue
    out.push(Object.freeze({ change: 'added', ...base(h), expected: null, actual: h.facts, fields: [] }))
  }
  const rank = (d: SchemaDifference) => SCHEMA_OBJECT_KINDS.indexOf(d.kind)
  return Object.freeze(
    out.sort((a, b) => groupOf(a).localeCompare(groupOf(b)) || rank(a) - rank(b) || a.name.localeCompare(b.name)),
  )
}

function keyOf(o: SchemaObject): string {
  // Index and sequence names are unique in their schema; other parts' in their table.
  const inSchema = o.kind === 'index' || o.kind === 'sequence'
  return `${o.kind}\u0000${o.schema ?? ''}\u0000${inSchema ? '' : (o.table ?? '')}\u0000${o.name}`
}

function byKey(objects: readonly SchemaObject[]): Map<string, SchemaObject> {
  return new Map(objects.map((o) => [keyOf(o), o]))
}

function factChanges(expected: SchemaFacts, actual: SchemaFacts): SchemaFactChange[] {
  const fields = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()
  const out: SchemaFactChange[] = []
  for (const field of fields) {
    const [e, a] = [expected[field] ?? null, actual[field] ?? null]
    if (JSON.stringify(e) !== JSON.stringify(a)) out.push(Object.freeze({ field, expected: e, actual: a }))
  }
  return out
}

function dominantOwner(objects: readonly SchemaObject[]): string | null {
  const counts = new Map<string, number>()
  for (const o of objects) if (o.kind === 'table' && o.owner) counts.set(o.owner, (counts.get(o.owner) ?? 0) + 1)
  // Stable: of owners with as many tables, the first seen.
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null
}

/** `table public.steps` or `extension vector`: the heading a difference is shown under. */
export function groupOf(d: Pick<SchemaDifference, 'kind' | 'schema' | 'table' | 'name'>): string {
  if (d.table) return `table ${d.table}`
  return `${d.kind} ${d.schema ? `${d.schema}.` : ''}${d.name}`
}
