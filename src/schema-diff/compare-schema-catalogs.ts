import type { SchemaCatalog, SchemaFact, SchemaFacts, SchemaObject, SchemaObjectKind } from './read-schema-catalog.js'

/**
 * How an object of the live database differs from what the migration files build:
 * `added` it exists only in the live database, `dropped` only in the files' schema,
 * `changed` both have it with different facts.
 */
export type SchemaChange = 'added' | 'dropped' | 'changed'

/** One fact that differs, e.g. `{ field: 'default', expected: '0.5', actual: '0.7' }`. */
export interface SchemaFactChange {
  readonly field: string
  readonly expected: SchemaFact
  readonly actual: SchemaFact
}

/** One difference between the live database and the schema its applied files build. */
export interface SchemaDifference {
  readonly change: SchemaChange
  readonly kind: SchemaObjectKind
  readonly schema: string | null
  /** `schema.table` for columns, constraints, indexes, triggers, policies and owned sequences; else null. */
  readonly table: string | null
  readonly name: string
  /** The object as the files build it (null when `added`). */
  readonly expected: SchemaFacts | null
  /** The object as the live database has it (null when `dropped`). */
  readonly actual: SchemaFacts | null
  /** The facts that differ (for `changed`; empty otherwise). */
  readonly fields: readonly SchemaFactChange[]
}

// Objects that live inside a table: reported on their own only when their table is in both.
const TABLE_PARTS: ReadonlySet<SchemaObjectKind> = new Set([
  'column',
  'constraint',
  'index',
  'trigger',
  'policy',
  'sequence',
])
// Objects that parts (indexes, triggers) can belong to.
const RELATIONS: ReadonlySet<SchemaObjectKind> = new Set(['table', 'view', 'materialized view'])
// Objects whose owner is their own (columns, indexes and the like follow their table's).
const OWNED: ReadonlySet<SchemaObjectKind> = new Set([
  'table',
  'view',
  'materialized view',
  'sequence',
  'function',
  'procedure',
  'aggregate',
  'enum',
  'domain',
])
const KIND_ORDER: readonly SchemaObjectKind[] = [
  'extension',
  'schema',
  'enum',
  'domain',
  'sequence',
  'table',
  'column',
  'constraint',
  'index',
  'trigger',
  'policy',
  'view',
  'materialized view',
  'function',
  'procedure',
  'aggregate',
]

/**
 * Compares two catalog snapshots and lists every difference, the expected one (built from
 * the files) first. Objects inside a table that is added or dropped are not listed again.
 *
 * Ownership matters where it would break the next migration: an object of the live database
 * owned by another role than the one that owns most of its tables (the role that migrates)
 * cannot be altered by that role, so it is reported as an `owner` change.
 */
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
  return Object.freeze(out.sort(compareDifferences))
}

function keyOf(o: SchemaObject): string {
  // Index and sequence names are unique in their schema; columns, constraints, triggers and
  // policies in their table.
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
  let best: string | null = null
  for (const [owner, n] of counts) if (best === null || n > counts.get(best)!) best = owner
  return best
}

/** The order differences are listed in: by the object they belong to, then by kind and name. */
function compareDifferences(a: SchemaDifference, b: SchemaDifference): number {
  return (
    groupOf(a).localeCompare(groupOf(b)) ||
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
    a.name.localeCompare(b.name)
  )
}

/**
 * The object a difference is shown under: its table for columns, constraints, indexes,
 * triggers and policies; else the object itself, e.g. `table public.steps`, `extension vector`.
 */
export function groupOf(d: Pick<SchemaDifference, 'kind' | 'schema' | 'table' | 'name'>): string {
  if (d.table) return `table ${d.table}`
  return `${d.kind} ${d.schema ? `${d.schema}.` : ''}${d.name}`
}
