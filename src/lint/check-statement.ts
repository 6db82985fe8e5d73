import { LOCK_LEVELS, type LintRule, type LockLevel } from './lint-rules.js'
import type { SchemaKnowledge } from './schema-knowledge.js'

/** `relation` null: the whole database; `lock` only when not the rule's usual one. */
export interface Hit {
  readonly rule: LintRule
  readonly relation: string | null
  readonly lock?: LockLevel
  readonly detail?: string
}

type Node = Record<string, any>

const VOLATILE = /^(random|random_normal|clock_timestamp|timeofday|gen_random_uuid|nextval|uuid_generate_v(1|1mc|4))$/
const SERIAL = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2'])
const DROPS: Record<string, LintRule> = { OBJECT_INDEX: 'drop-index-not-concurrent', OBJECT_TABLE: 'drop-table' }
const RENAMES: Record<string, LintRule> = { OBJECT_COLUMN: 'rename-column', OBJECT_TABLE: 'rename-table' }

/** Quoted as `to_regclass` reads it, so one key serves the parse tree and the catalog. */
export function relationKey(rangeVar: { schemaname?: string; relname: string }): string {
  const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`
  return rangeVar.schemaname ? `${quote(rangeVar.schemaname)}.${quote(rangeVar.relname)}` : quote(rangeVar.relname)
}

/** They are not RangeVars, so the provider's `relations` misses them; a type, function or schema is no relation. */
export function droppedNames(node: Node): string[] {
  return (node['objects'] ?? []).flatMap((o: Node) => {
    const [a, b] = (o['List']?.['items'] ?? []).map((i: Node) => i['String']?.['sval'] as string)
    return a === undefined ? [] : [relationKey(b ? { schemaname: a, relname: b } : { relname: a })]
  })
}

/** Statements on what the file `created` itself are not flagged: no running code can be using it yet. */
export function checkStatement(kind: string, node: Node, created: Set<string>, schema: SchemaKnowledge): Hit[] {
  const each = (rule: LintRule | undefined, keys: (string | null)[], lock?: LockLevel): Hit[] =>
    rule ? keys.filter((k) => k === null || !created.has(k)).map((relation) => ({ rule, relation, lock })) : []
  const table = node['relation'] ? relationKey(node['relation']) : null
  switch (kind) {
    case 'CreateStmt':
      created.add(table!)
      for (const { ColumnDef: c } of node['tableElts'] ?? [])
        if (c) schema.setWidth(table!, c.colname, widthOf(c.typeName))
      return []
    case 'CreateTableAsStmt':
      created.add(relationKey(node['into']['rel']))
      return []
    case 'IndexStmt':
      if (node['idxname']) created.add(relationKey({ ...node['relation'], relname: node['idxname'] }))
      return node['concurrent'] ? [] : each('index-not-concurrent', [table])
    case 'DropStmt':
      return node['concurrent'] ? [] : each(DROPS[node['removeType']], droppedNames(node))
    case 'RenameStmt':
      return table ? each(RENAMES[node['renameType']], [table]) : []
    case 'VacuumStmt': {
      const rels = (node['rels'] ?? []).map((r: Node) => relationKey(r['VacuumRelation'].relation))
      const full = (node['options'] ?? []).some((o: Node) => o['DefElem']?.defname === 'full')
      return full ? each('vacuum-full', rels.length ? rels : [null]) : []
    }
    case 'ClusterStmt':
      return each('cluster', [table])
    case 'LockStmt': {
      const lock = LOCK_LEVELS[node['mode'] - 1] ?? 'ACCESS EXCLUSIVE'
      const rels = (node['relations'] ?? []).map((r: Node) => relationKey(r['RangeVar']))
      return LOCK_LEVELS.indexOf(lock) >= LOCK_LEVELS.indexOf('SHARE') ? each('lock-table', rels, lock) : []
    }
    case 'AlterTableStmt': {
      const hits = (node['cmds'] ?? []).flatMap((c: Node) => alterTableCmd(c['AlterTableCmd'], table!, schema))
      return created.has(table!) ? [] : hits
    }
    default:
      return []
  }
}

const hitOn =
  (table: string) =>
  (rule: LintRule, detail?: string, lock?: LockLevel): Hit => ({ rule, relation: table, detail, lock })

function alterTableCmd(cmd: Node, table: string, schema: SchemaKnowledge): Hit[] {
  const hit = hitOn(table)
  const column = cmd['name'] as string
  switch (cmd['subtype']) {
    case 'AT_AddConstraint':
      return constraintHits(cmd['def']['Constraint'], schema, table)
    case 'AT_AddColumn': {
      const { colname, typeName: type, constraints } = cmd['def']['ColumnDef']
      schema.setWidth(table, colname, widthOf(type))
      const hits = (constraints ?? []).flatMap((c: Node) => constraintHits(c['Constraint'], schema, table, colname))
      if (SERIAL.has(typeName(type))) hits.unshift(hit('volatile-default', `column "${colname}" is ${typeName(type)}`))
      return hits
    }
    case 'AT_SetNotNull':
      return schema.provenNotNull(table, column) ? [] : [hit('set-not-null', `column "${column}"`)]
    case 'AT_AlterColumnType': {
      const def = cmd['def']['ColumnDef']
      const [from, to] = [schema.width(table, column), widthOf(def.typeName)]
      schema.setWidth(table, column, to)
      // A USING clause (raw_default) always rewrites; so does every change but a wider text type.
      if (from != null && to != null && to >= from && !def.raw_default) return []
      const unknown = from === undefined ? ', from a type this run does not know' : ''
      return [hit('column-type-rewrite', `column "${column}" to ${typeName(def.typeName)}${unknown}`)]
    }
    case 'AT_DropColumn':
      return [hit('drop-column', `column "${column}"`)]
    case 'AT_ValidateConstraint':
      schema.validate(table, column)
      return []
    default:
      return []
  }
}

function constraintHits(con: Node, schema: SchemaKnowledge, table: string, column?: string): Hit[] {
  const hit = hitOn(table)
  const validated = !con['skip_validation']
  const what = con['conname'] ? `constraint "${con['conname']}"` : `column "${column}"`
  switch (con['contype']) {
    case 'CONSTR_FOREIGN':
      return validated ? [hit('fk-not-valid', `${what} → ${relationKey(con['pktable'])}`)] : []
    case 'CONSTR_CHECK': {
      const test = con['raw_expr']?.['NullTest']
      const fields = test?.nulltesttype === 'IS_NOT_NULL' ? test.arg?.['ColumnRef']?.fields : undefined
      if (fields?.length === 1) schema.notNullCheck(table, con['conname'], fields[0]['String'].sval, validated)
      return validated ? [hit('check-not-valid', what)] : []
    }
    case 'CONSTR_PRIMARY':
    case 'CONSTR_UNIQUE':
    case 'CONSTR_EXCLUSION':
      return con['indexname'] ? [] : [hit('index-not-concurrent', what, 'ACCESS EXCLUSIVE')]
    case 'CONSTR_DEFAULT': {
      const volatile = volatileCall(con['raw_expr'])
      return volatile ? [hit('volatile-default', `column "${column}" DEFAULT ${volatile}()`)] : []
    }
    case 'CONSTR_IDENTITY':
    case 'CONSTR_GENERATED':
      return [hit('volatile-default', `column "${column}" is ${con['contype'].slice(7).toLowerCase()}`)]
    default:
      return []
  }
}

function volatileCall(expr: unknown): string | undefined {
  if (expr === null || typeof expr !== 'object') return undefined
  const name = (expr as Node)['FuncCall']?.funcname?.at(-1)?.['String']?.sval
  if (VOLATILE.test(name)) return name
  for (const child of Object.values(expr)) {
    const found = volatileCall(child)
    if (found) return found
  }
  return undefined
}

function typeName(type: Node): string {
  return type['names'].at(-1)['String'].sval
}

/** Widening a text type is free, so changes are compared by width: Infinity, n for varchar(n), null: not text. */
function widthOf(type: Node): number | null {
  const name = typeName(type)
  if (type['arrayBounds']) return null
  if (name === 'text' || (name === 'varchar' && !type['typmods'])) return Number.POSITIVE_INFINITY
  return name === 'varchar' ? (type['typmods'][0]?.['A_Const']?.['ival']?.['ival'] ?? null) : null
}
