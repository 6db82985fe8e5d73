import { LEDGER_TABLES } from './ledger-names.js'
import { loadedSqlParser } from './sql-parser.js'

const LIMIT_SETTINGS: readonly string[] = Object.freeze(['lock_timeout', 'statement_timeout'])

export interface StatementHazard {
  readonly code: 'LEDGER_WRITE' | 'MIGRATION_LOCK_RELEASE' | 'LIMIT_OVERRIDE'
  // For the message, e.g. `TRUNCATE of schema_versions`.
  readonly what: string
}

export interface HazardContext {
  // A down file may delete its own schema_versions row.
  readonly version: number
  readonly direction: 'up' | 'down'
  readonly ownTimeouts: boolean
}

type Node = Record<string, unknown>

const LOCK_RELEASERS = new Set(['pg_advisory_unlock', 'pg_advisory_unlock_all', 'pg_advisory_unlock_shared'])
const WRITES: Record<string, string> = {
  InsertStmt: 'INSERT into',
  UpdateStmt: 'UPDATE of',
  DeleteStmt: 'DELETE from',
  MergeStmt: 'MERGE into',
  AlterTableStmt: 'ALTER of',
  AlterObjectSchemaStmt: 'ALTER … SET SCHEMA of',
  CreateTrigStmt: 'a trigger on',
  RuleStmt: 'a rule on',
  IndexStmt: 'an index on',
  CreateStmt: 'CREATE TABLE',
}
const DROPPED_KINDS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
])

// What would break the run around a statement, at any depth (function bodies too; EXECUTE's SQL cannot be seen).
export function findHazards(statement: Node, context: HazardContext): StatementHazard[] {
  const found: StatementHazard[] = []
  const [kind, top] = Object.entries(statement)[0] as [string, Node]
  walk(kind, top, context, found, true)
  return found
}

function walk(kind: string, node: Node, context: HazardContext, found: StatementHazard[], top: boolean): void {
  inspect(kind, node, context, found, top)
  for (const [key, value] of Object.entries(node)) {
    // A function's own `SET x = …` applies only while it runs; its body is inspectBody's.
    if ((kind === 'CreateFunctionStmt' || kind === 'AlterFunctionStmt') && (key === 'options' || key === 'actions')) {
      const options = asList(value).filter((o) => unwrap(o, 'DefElem')?.['defname'] !== 'set')
      visit(options, context, found)
    } else {
      visit(value, context, found)
    }
  }
}

function visit(value: unknown, context: HazardContext, found: StatementHazard[]): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, context, found)
    return
  }
  if (value === null || typeof value !== 'object') return
  const entries = Object.entries(value as Node)
  // A wrapped node is `{ TypeName: { ...fields } }`; anything else is a plain field object.
  const [type, fields] = entries[0] ?? []
  if (entries.length === 1 && /^[A-Z]/.test(type!) && fields !== null && typeof fields === 'object') {
    walk(type!, fields as Node, context, found, false)
    return
  }
  for (const [, child] of entries) visit(child, context, found)
}

function inspect(kind: string, node: Node, context: HazardContext, found: StatementHazard[], top: boolean): void {
  const ledger = (what: string, relation: unknown): void => {
    const name = bookkeepingName(relation)
    if (name) found.push({ code: 'LEDGER_WRITE', what: `${what} ${name}` })
  }
  switch (kind) {
    case 'InsertStmt':
      // A top-level INSERT INTO schema_versions is the old runner's convention, checked and blanked by the caller.
      if (!(top && relname(node['relation']) === 'schema_versions')) ledger(WRITES[kind]!, node['relation'])
      return
    case 'DeleteStmt': {
      const ownRow = context.direction === 'down' && relname(node['relation']) === 'schema_versions'
      if (top && ownRow && deletesOnlyVersion(node, context.version)) return
      ledger(WRITES[kind]!, node['relation'])
      return
    }
    case 'CreateStmt': {
      // The old runner's `CREATE TABLE IF NOT EXISTS schema_versions` does nothing; any other is a shadow.
      const oldRunners = node['if_not_exists'] && relname(node['relation']) === 'schema_versions'
      if (!oldRunners || relname(node['relation'], 'schemaname')) ledger(WRITES[kind]!, node['relation'])
      for (const parent of asList(node['inhRelations'])) ledger('a table inheriting from', unwrap(parent, 'RangeVar'))
      return
    }
    case 'CreateTableAsStmt':
    case 'SelectStmt': {
      const into = (kind === 'SelectStmt' ? node['intoClause'] : node['into']) as Node | undefined
      if (into) ledger(kind === 'SelectStmt' ? 'SELECT INTO' : 'CREATE TABLE AS', into['rel'])
      return
    }
    case 'ViewStmt':
      ledger('a view named', node['view'])
      return
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      ledger('a policy on', node['table'])
      return
    case 'TruncateStmt':
      for (const r of asList(node['relations'])) ledger('TRUNCATE of', unwrap(r, 'RangeVar'))
      return
    case 'CopyStmt':
      if (node['is_from']) ledger('COPY into', node['relation'])
      return
    case 'GrantStmt':
      if (node['objtype'] === 'OBJECT_TABLE') {
        const verb = node['is_grant'] ? 'GRANT' : 'REVOKE'
        for (const r of asList(node['objects'])) ledger(`${verb} on`, unwrap(r, 'RangeVar'))
      }
      return
    case 'RenameStmt': {
      if (node['renameType'] === 'OBJECT_SCHEMA' && node['subname'] === 'public') {
        found.push({ code: 'LEDGER_WRITE', what: 'renaming the public schema (where the ledgers live)' })
      }
      ledger('renaming', node['relation'])
      const newname = node['newname']
      if (typeof newname === 'string' && LEDGER_TABLES.includes(newname) && node['relation']) {
        found.push({ code: 'LEDGER_WRITE', what: `renaming a table to ${newname}` })
      }
      return
    }
    case 'DropStmt': {
      const type = node['removeType']
      for (const object of asList(node['objects'])) {
        const names = asList(unwrap(object, 'List')?.['items'] ?? [object]).map((n) => unwrap(n, 'String')?.['sval'])
        const last = names.at(-1)
        if (DROPPED_KINDS.has(String(type)) && typeof last === 'string' && LEDGER_TABLES.includes(last)) {
          found.push({ code: 'LEDGER_WRITE', what: `DROP of ${last}` })
        }
        if (type === 'OBJECT_SCHEMA' && last === 'public') {
          found.push({ code: 'LEDGER_WRITE', what: 'DROP SCHEMA public (where the ledgers live)' })
        }
      }
      return
    }
    case 'DropOwnedStmt':
      found.push({ code: 'LEDGER_WRITE', what: 'DROP OWNED (it can drop the ledgers)' })
      return
    case 'DiscardStmt':
      if (node['target'] === 'DISCARD_ALL') found.push({ code: 'MIGRATION_LOCK_RELEASE', what: 'DISCARD ALL' })
      return
    case 'FuncCall': {
      const name = funcName(node)
      if (name && LOCK_RELEASERS.has(name)) found.push({ code: 'MIGRATION_LOCK_RELEASE', what: `${name}()` })
      if (name === 'set_config' && !context.ownTimeouts) {
        const setting = unwrap(asList(node['args'])[0], 'A_Const')?.['sval'] as { sval?: string } | undefined
        const value = setting?.sval?.toLowerCase()
        if (value === undefined) {
          found.push({ code: 'LIMIT_OVERRIDE', what: 'set_config() of a setting named at run time' })
        } else if (LIMIT_SETTINGS.includes(value)) {
          found.push({ code: 'LIMIT_OVERRIDE', what: `set_config('${value}', …)` })
        }
      }
      return
    }
    case 'VariableSetStmt': {
      if (context.ownTimeouts) return
      const name = typeof node['name'] === 'string' ? node['name'].toLowerCase() : undefined
      if (node['kind'] === 'VAR_RESET_ALL') found.push({ code: 'LIMIT_OVERRIDE', what: 'RESET ALL' })
      else if (name && LIMIT_SETTINGS.includes(name)) {
        found.push({ code: 'LIMIT_OVERRIDE', what: `${node['kind'] === 'VAR_RESET' ? 'RESET' : 'SET'} ${name}` })
      }
      return
    }
    case 'DoStmt':
    case 'CreateFunctionStmt':
      inspectBody(kind, node, context, found)
      return
    default:
      if (WRITES[kind]) ledger(WRITES[kind], node['relation'])
  }
}

// Procedural bodies cannot be parsed on their own, so they are searched for the names.
function inspectBody(kind: string, node: Node, context: HazardContext, found: StatementHazard[]): void {
  const options = asList(kind === 'DoStmt' ? node['args'] : node['options']).map((o) => unwrap(o, 'DefElem'))
  const option = (name: string): unknown => options.find((o) => o?.['defname'] === name)?.['arg']
  const declared = unwrap(option('language'), 'String')?.['sval']
  const language = String(declared ?? (kind === 'DoStmt' ? 'plpgsql' : 'sql')).toLowerCase()
  const as = option('as')
  const body = unwrap(as, 'String')?.['sval'] ?? unwrap(asList(unwrap(as, 'List')?.['items'])[0], 'String')?.['sval']
  if (typeof body !== 'string' || language === 'c' || language === 'internal') return
  if (language === 'sql') {
    try {
      const tree = loadedSqlParser().parseSync(body) as { stmts?: { stmt: Node }[] }
      for (const s of tree.stmts ?? []) found.push(...findHazards(s.stmt, { ...context, direction: 'up' }))
      return
    } catch {
      // Not parseable on its own (e.g. it names the function's arguments): search it instead.
    }
  }
  found.push(...searchBody(body, context))
}

function searchBody(body: string, context: HazardContext): StatementHazard[] {
  const found: StatementHazard[] = []
  const text = body.replace(/--[^\r\n]*/g, ' ')
  const tables = LEDGER_TABLES.join('|')
  const verbs = String.raw`insert\s+into|update|delete\s+from|truncate(?:\s+table)?|alter\s+table(?:\s+if\s+exists)?|drop\s+table(?:\s+if\s+exists)?|copy`
  const write = new RegExp(String.raw`\b(${verbs})\s+(?:only\s+)?(?:"?\w+"?\.)?"?(${tables})"?\b`, 'i')
  const w = write.exec(text)
  if (w) {
    const verb = w[1]!.replace(/\s+/g, ' ').toUpperCase()
    found.push({ code: 'LEDGER_WRITE', what: `${verb} ${w[2]!.toLowerCase()} in a function or DO body` })
  }
  const unlock = /\b(pg_advisory_unlock(?:_all|_shared)?)\s*\(|\bdiscard\s+all\b/i.exec(text)
  if (unlock) {
    const call = unlock[1] ? `${unlock[1].toLowerCase()}()` : 'DISCARD ALL'
    found.push({ code: 'MIGRATION_LOCK_RELEASE', what: `${call} in a function or DO body` })
  }
  if (!context.ownTimeouts) {
    const names = LIMIT_SETTINGS.join('|')
    const limit = new RegExp(
      String.raw`\b(?:set\s+(?:local\s+|session\s+)?|reset\s+)(${names})\b|\breset\s+all\b|set_config\s*\(\s*'(${names})'`,
      'i',
    ).exec(text)
    if (limit) {
      const what = (limit[1] ?? limit[2] ?? 'RESET ALL').toLowerCase()
      found.push({ code: 'LIMIT_OVERRIDE', what: `${what} in a function or DO body` })
    }
  }
  return found
}

function deletesOnlyVersion(node: Node, version: number): boolean {
  if (node['usingClause'] || node['withClause'] || node['returningList']) return false
  const where = unwrap(node['whereClause'], 'A_Expr')
  const operator = unwrap(asList(where?.['name'])[0], 'String')?.['sval']
  if (where?.['kind'] !== 'AEXPR_OP' || operator !== '=') return false
  const sides = [where['lexpr'], where['rexpr']]
  const column = sides.map((s) => {
    const fields = asList(unwrap(s, 'ColumnRef')?.['fields'])
    return fields.map((f) => unwrap(f, 'String')?.['sval']).at(-1)
  })
  const value = sides.map((s) => {
    const integer = unwrap(s, 'A_Const')?.['ival'] as { ival?: number } | undefined
    return integer ? (integer.ival ?? 0) : undefined
  })
  return (column[0] === 'version' && value[1] === version) || (column[1] === 'version' && value[0] === version)
}

function funcName(node: Node): string | undefined {
  const parts = asList(node['funcname']).map((p) => unwrap(p, 'String')?.['sval'])
  const name = parts.at(-1)
  if (typeof name !== 'string') return undefined
  return parts.length === 1 || parts[0] === 'pg_catalog' ? name.toLowerCase() : undefined
}

function relname(relation: unknown, field = 'relname'): string | undefined {
  const r = unwrap(relation, 'RangeVar') ?? (relation as Node | undefined)
  return typeof r?.[field] === 'string' ? r[field] : undefined
}

function bookkeepingName(relation: unknown): string | undefined {
  const name = relname(relation)
  return name !== undefined && LEDGER_TABLES.includes(name) ? name : undefined
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function unwrap(value: unknown, type: string): Node | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const wrapped = (value as Node)[type]
  if (wrapped !== null && typeof wrapped === 'object') return wrapped as Node
  return undefined
}

// A temporary object would outlive its file on the run's connection (see ParsedSql).
export function createsTemporaryObjects(statement: Node): boolean {
  let found = false
  eachNode(statement, (node) => {
    if (node['relpersistence'] === 't') found = true
  })
  return found
}

// Every object of a parse tree, at any depth: what a field is called varies by statement.
export function eachNode(tree: unknown, see: (node: Node) => void): void {
  if (Array.isArray(tree)) {
    for (const item of tree) eachNode(item, see)
  } else if (tree !== null && typeof tree === 'object') {
    see(tree as Node)
    for (const child of Object.values(tree)) eachNode(child, see)
  }
}
