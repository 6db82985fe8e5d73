
import { MigrationError } from '../errors/migration-error.js'
import { importAtRunTime } from './import-at-run-time.js'
import { byteToCharOffsets, lineColumnAt, lineColumnFinder } from './sql-text.js'

/**
 * The directive that opts a file out of its transaction. It must be the file's first line:
 *
 * ```sql
 * -- wukong:no-transaction
 * CREATE INDEX CONCURRENTLY IF NOT EXISTS steps_created_at_idx ON steps (created_at);
 * ```
 */
export const NO_TRANSACTION_DIRECTIVE = '-- wukong:no-transaction'

/** One statement of a migration file, located by character offsets into the file's text. */
export interface SqlStatement {
  /** The statement's own text, from its first token to its end (no trailing semicolon). */
  readonly text: string
  /** Character offset of `text` in the file. */
  readonly start: number
  readonly line: number
  readonly column: number
  /** The node type libpg-query gave it, e.g. `CreateStmt`. */
  readonly kind: string
}

/** A `schema_versions` INSERT written in the file by hand (the old runner's convention). */
export interface LedgerInsert {
  readonly start: number
  readonly end: number
  readonly description?: string
}

/** What {@link parseMigrationSql} learns about a file. */
export interface ParsedSql {
  readonly statements: readonly SqlStatement[]
  /** False when the file opted out with {@link NO_TRANSACTION_DIRECTIVE}. */
  readonly transactional: boolean
  readonly ledgerInserts: readonly LedgerInsert[]
}

// The parser (a 1 MB WebAssembly module) loads on the first file that needs parsing, never on
// the boot path that only compares checksums.
let parser: Promise<typeof import('libpg-query')> | undefined

function loadParser(): Promise<typeof import('libpg-query')> {
  parser ??= importAtRunTime<typeof import('libpg-query')>('libpg-query').then(async (lib) => {
    await lib.loadModule()
    return lib
  })
  return parser
}

/**
 * Splits a migration file into statements with PostgreSQL's own parser (libpg-query) and
 * rejects what cannot run safely: syntax errors (with line:column), transaction control,
 * statements that cannot run in a transaction (unless the file opted out), and a
 * `schema_versions` INSERT for another version.
 *
 * @example
 * ```ts
 * const parsed = await parseMigrationSql('create table t (id int);', '001_t.sql', 1)
 * parsed.statements[0].kind // 'CreateStmt'
 * ```
 */
export async function parseMigrationSql(
  text: string,
  file: string,
  version: number,
  direction: 'up' | 'down' = 'up',
): Promise<ParsedSql> {
  const { hasSqlDetails, parseSync } = await loadParser()

  const transactional = readDirectives(text, file)
  if (text.trim() === '') {
    throw new MigrationError('EMPTY_MIGRATION', `${file}: the file is empty`, { file })
  }
  let tree: { stmts?: RawStmt[] }
  try {
    tree = parseSync(text) as { stmts?: RawStmt[] }
  } catch (error) {
    const at = hasSqlDetails(error) ? error.sqlDetails.cursorPosition : 0
    throw errorAt('SQL_SYNTAX_ERROR', text, file, at, (error as Error).message, error)
  }

  const toChar = byteToCharOffsets(text)
  const locate = lineColumnFinder(text)
  const statements: SqlStatement[] = []
  const ledgerInserts: LedgerInsert[] = []
  for (const raw of tree.stmts ?? []) {
    const rangeStart = toChar(raw.stmt_location ?? 0)
    const rangeEnd = raw.stmt_len ? toChar((raw.stmt_location ?? 0) + raw.stmt_len) : text.length
    const start = skipSpaceAndComments(text, rangeStart, rangeEnd)
    const [kind, node] = Object.entries(raw.stmt)[0] as [string, Node]
    const { line, column } = locate(start)
    statements.push({ text: text.slice(start, rangeEnd), start, line, column, kind })

    if (kind === 'TransactionStmt') {
      throw errorAt(
        'TRANSACTION_CONTROL',
        text,
        file,
        start,
        `transaction control (${firstWords(text, start)}) is not allowed: each migration file already runs in its own transaction, which commits with its schema_versions row`,
      )
    }
    const needsNoTransaction = nonTransactionalReason(kind, node)
    if (needsNoTransaction && transactional) {
      throw errorAt(
        'NON_TRANSACTIONAL_STATEMENT',
        text,
        file,
        start,
        `${needsNoTransaction} cannot run inside a transaction; put \`${NO_TRANSACTION_DIRECTIVE}\` on the file's first line to run its statements one by one outside a transaction (the file is then not atomic: keep it to such statements and make them idempotent)`,
      )
    }
    if ((kind === 'UpdateStmt' || kind === 'DeleteStmt') && direction === 'up' && isLedgerTable(node['relation'])) {
      // A file that rewrites or forgets ledger rows makes files look unapplied, and they run
      // again on the next migrate. Down files may delete their own row.
      throw errorAt(
        'WRONG_LEDGER_VERSION',
        text,
        file,
        start,
        `${kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} of schema_versions is not allowed in a migration file: the ledger is the migration tool's, and a changed row makes files run again`,
      )
    }
    if (kind === 'InsertStmt' && isLedgerTable(node['relation'])) {
      ledgerInserts.push(readLedgerInsert(node, text, file, version, start, rangeEnd))
    }
  }
  if (statements.length === 0) {
    throw new MigrationError('EMPTY_MIGRATION', `${file}: the file has no SQL statements`, { file })
  }
  return Object.freeze({ statements, transactional, ledgerInserts })
}

interface RawStmt {
  stmt: Record<string, Node>
  stmt_location?: number
  stmt_len?: number
}

type Node = Record<string, unknown>

function readDirectives(text: string, file: string): boolean {
  const firstLine = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')).trim()
  const match = /^--\s*wukong\s*:\s*(.*)$/i.exec(firstLine)
  if (!match) return true
  if (match[1]!.trim() === 'no-transaction') return false
  throw new MigrationError(
    'UNKNOWN_DIRECTIVE',
    `${file}:1:1: unknown directive "${firstLine}"; the only directive is "${NO_TRANSACTION_DIRECTIVE}"`,
    { file, line: 1, column: 1 },
  )
}

function nonTransactionalReason(kind: string, node: Node): string | undefined {
  switch (kind) {
    case 'IndexStmt':
      return node['concurrent'] ? 'CREATE INDEX CONCURRENTLY' : undefined
    case 'DropStmt':
      return node['concurrent'] ? 'DROP INDEX CONCURRENTLY' : undefined
    case 'ReindexStmt': {
      const params = (node['params'] as { DefElem?: { defname?: string } }[] | undefined) ?? []
      if (params.some((p) => p.DefElem?.defname === 'concurrently')) return 'REINDEX CONCURRENTLY'
      return node['kind'] === 'REINDEX_OBJECT_SYSTEM' || node['kind'] === 'REINDEX_OBJECT_DATABASE'
        ? 'REINDEX SYSTEM/DATABASE'
        : undefined
    }
    case 'VacuumStmt':
      return node['is_vacuumcmd'] ? 'VACUUM' : undefined
    case 'ClusterStmt':
      return node['relation'] ? undefined : 'CLUSTER without a table'
    case 'AlterTableStmt': {
      const cmds = (node['cmds'] as { AlterTableCmd?: Node }[] | undefined) ?? []
      const detach = cmds.some((c) => {
        const def = c.AlterTableCmd?.['def'] as { PartitionCmd?: Node } | undefined
        return c.AlterTableCmd?.['subtype'] === 'AT_DetachPartition' && def?.PartitionCmd?.['concurrent']
      })
      return detach ? 'DETACH PARTITION CONCURRENTLY' : undefined
    }
    case 'CreatedbStmt':
      return 'CREATE DATABASE'
    case 'DropdbStmt':
      return 'DROP DATABASE'
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE'
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE'
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM'
    case 'CreateSubscriptionStmt':
      return 'CREATE SUBSCRIPTION'
    case 'DropSubscriptionStmt':
      return 'DROP SUBSCRIPTION'
    default:
      return undefined
  }
}

function isLedgerTable(relation: unknown): boolean {
  const r = relation as { relname?: string; schemaname?: string } | undefined
  return r?.relname === 'schema_versions' && (r.schemaname === undefined || r.schemaname === 'public')
}

function readLedgerInsert(
  node: Node,
  text: string,
  file: string,
  version: number,
  start: number,
  end: number,
): LedgerInsert {
  const cols = ((node['cols'] as { ResTarget?: { name?: string } }[] | undefined) ?? []).map(
    (c) => c.ResTarget?.name,
  )
  const versionIndex = cols.length ? cols.indexOf('version') : 0
  const descriptionIndex = cols.length ? cols.indexOf('description') : 1
  const select = (node['selectStmt'] as { SelectStmt?: Node } | undefined)?.SelectStmt
  const rows = (select?.['valuesLists'] as { List?: { items?: Node[] } }[] | undefined) ?? []
  const wrong = (what: string): MigrationError =>
    errorAt(
      'WRONG_LEDGER_VERSION',
      text,
      file,
      start,
      `${what}; a file may record only its own version (${version}) in schema_versions`,
    )
  if (versionIndex === -1 || rows.length !== 1) {
    throw wrong('this schema_versions INSERT does not insert exactly one VALUES row with a literal version')
  }
  const items = rows[0]!.List?.items ?? []
  const constant = items[versionIndex]?.['A_Const'] as { ival?: { ival?: number } } | undefined
  const inserted = constant?.ival ? (constant.ival.ival ?? 0) : undefined
  if (inserted !== version) {
    throw wrong(`this INSERT records version ${inserted ?? '(not a literal integer)'} in schema_versions`)
  }
  const description = (items[descriptionIndex]?.['A_Const'] as { sval?: { sval?: string } } | undefined)?.sval
    ?.sval
  return Object.freeze({ start, end, description })
}

function skipSpaceAndComments(text: string, from: number, to: number): number {
  let i = from
  while (i < to) {
    const c = text[i]
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? to : nl + 1
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1
      i += 2
      while (i < to && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2))
        else if (text[i] === '*' && text[i + 1] === '/') (depth--, (i += 2))
        else i++
      }
    } else {
      break
    }
  }
  return i
}

function firstWords(text: string, start: number): string {
  return text.slice(start, start + 40).split(/[;\n]/)[0]!.trim()
}

function errorAt(
  code: 'SQL_SYNTAX_ERROR' | 'TRANSACTION_CONTROL' | 'NON_TRANSACTIONAL_STATEMENT' | 'WRONG_LEDGER_VERSION',
  text: string,
  file: string,
  offset: number,
  message: string,
  cause?: unknown,
): MigrationError {
  const { line, column } = lineColumnAt(text, offset)
  return new MigrationError(code, `${file}:${line}:${column}: ${message}`, { file, line, column, cause })
}
