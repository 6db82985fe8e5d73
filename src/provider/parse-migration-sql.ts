import { MigrationError, type MigrationErrorCode } from '../errors/migration-error.js'
import { loadSqlParser } from './sql-parser.js'
import {
  quoteIdent,
  byteToCharOffsets,
  indexOfCodePoint,
  LINE_BREAK,
  lineColumnAt,
  lineColumnFinder,
  nextLineBreak,
} from './sql-text.js'
import { createsTemporaryObjects, eachNode, findHazards, type StatementHazard } from './statement-guards.js'

// First line of a file that runs outside a transaction (CREATE INDEX CONCURRENTLY and the like).
export const NO_TRANSACTION_DIRECTIVE = '-- wukong:no-transaction'

// Lets a file set lock_timeout and statement_timeout, which otherwise the runner's limits hold.
export const OWN_TIMEOUTS_DIRECTIVE = '-- wukong:own-timeouts'

// Whatever the spacing or case, so a misspelt directive is refused rather than ignored.
export const DIRECTIVE_LINE = /^\s*--\s*wukong\s*:/i

export interface SqlStatement {
  // From its first token (comments skipped, so line:column point at it) to its end.
  readonly text: string
  readonly start: number
  readonly line: number
  readonly column: number
  readonly kind: string
  // As SQL (`"app"."t"`), to name who holds them when the statement times out on a lock.
  readonly relations: readonly string[]
  readonly concurrentIndex?: ConcurrentIndex
}

// What a failed CREATE INDEX CONCURRENTLY leaves behind, to drop before a retry.
export interface ConcurrentIndex {
  readonly name?: string
  readonly table: string
}

// The old runner's convention: a file recorded its own version by hand.
interface LedgerInsert {
  readonly start: number
  readonly end: number
  readonly description?: string
}

export interface ParsedSql {
  readonly statements: readonly SqlStatement[]
  readonly transactional: boolean
  readonly ownTimeouts: boolean
  // Temporary objects outlive the file on the run's connection: the runner then runs DISCARD TEMP.
  readonly createsTemporary: boolean
  readonly ledgerInserts: readonly LedgerInsert[]
}

// Refuses, before anything runs, what cannot run safely, naming line:column in the file.
export async function parseMigrationSql(
  text: string,
  file: string,
  version: number,
  direction: 'up' | 'down' = 'up',
): Promise<ParsedSql> {
  const { hasSqlDetails, parseSync } = await loadSqlParser()
  const { transactional, ownTimeouts } = readDirectives(text, file)
  if (text.trim() === '') throw new MigrationError('EMPTY_MIGRATION', 'the file is empty', { file })
  let tree: { stmts?: RawStmt[] }
  try {
    tree = parseSync(text) as { stmts?: RawStmt[] }
  } catch (error) {
    // libpg-query's cursor is a 0-based count of characters (code points).
    const at = lineColumnAt(text, hasSqlDetails(error) ? indexOfCodePoint(text, error.sqlDetails.cursorPosition) : 0)
    throw new MigrationError('SQL_SYNTAX_ERROR', (error as Error).message, { file, ...at, cause: error })
  }

  const toChar = byteToCharOffsets(text)
  const locate = lineColumnFinder(text)
  const statements: SqlStatement[] = []
  const ledgerInserts: LedgerInsert[] = []
  let createsTemporary = false
  for (const raw of tree.stmts ?? []) {
    const rangeStart = toChar(raw.stmt_location ?? 0)
    const rangeEnd = raw.stmt_len ? toChar((raw.stmt_location ?? 0) + raw.stmt_len) : text.length
    const start = skipSpaceAndComments(text, rangeStart, rangeEnd)
    const [kind, node] = Object.entries(raw.stmt)[0] as [string, Node]
    const { line, column } = locate(start)
    statements.push({
      text: text.slice(start, rangeEnd),
      start,
      line,
      column,
      kind,
      relations: relationsOf(node),
      ...(kind === 'IndexStmt' && node['concurrent'] ? { concurrentIndex: concurrentIndexOf(node) } : {}),
    })
    const fail = (code: MigrationErrorCode, why: string) => new MigrationError(code, why, { file, line, column })
    const copy = copyWithClient(kind, node)
    if (copy) {
      const reason = `${copy} is not supported in a migration file: the data would have to come from (or go to) the client, which a migration file cannot provide; put the rows in INSERT statements, or COPY from a file on the server`
      throw fail('UNSUPPORTED_STATEMENT', reason)
    }
    if (kind === 'TransactionStmt') {
      const [words] = text.slice(start, start + 40).split(/[;\r\n]/)
      const reason = `transaction control (${words!.trim()}) is not allowed: each migration file already runs in its own transaction, which commits with its schema_versions row`
      throw fail('TRANSACTION_CONTROL', reason)
    }
    const needsNoTransaction = nonTransactionalReason(kind, node)
    if (needsNoTransaction && transactional) {
      const reason = `${needsNoTransaction} cannot run inside a transaction; put \`${NO_TRANSACTION_DIRECTIVE}\` on the file's first line to run its statements one by one outside a transaction (the file is then not atomic: keep it to such statements and make them idempotent)`
      throw fail('NON_TRANSACTIONAL_STATEMENT', reason)
    }
    const [hazard] = findHazards(raw.stmt, { version, direction, ownTimeouts })
    createsTemporary ||= createsTemporaryObjects(raw.stmt)
    if (hazard) throw fail(hazard.code, hazardMessage(hazard, version, direction))
    // In any schema: the ledger lives where it was created.
    const target = (node['relation'] as { relname?: string } | undefined)?.relname
    if (kind === 'InsertStmt' && target === 'schema_versions') {
      ledgerInserts.push(readLedgerInsert(node, version, start, rangeEnd, fail))
    }
  }
  if (statements.length === 0) throw new MigrationError('EMPTY_MIGRATION', 'the file has no SQL statements', { file })
  return Object.freeze({ statements, transactional, ownTimeouts, createsTemporary, ledgerInserts })
}

interface RawStmt {
  stmt: Record<string, Node>
  stmt_location?: number
  stmt_len?: number
}

type Node = Record<string, unknown>

export function directiveLineCount(text: string): number {
  const lines = text.split(LINE_BREAK)
  let n = 0
  while (n < lines.length && DIRECTIVE_LINE.test(lines[n]!)) n++
  return n
}

function readDirectives(text: string, file: string): { transactional: boolean; ownTimeouts: boolean } {
  const lines = text.split(LINE_BREAK).slice(0, directiveLineCount(text))
  let transactional = true
  let ownTimeouts = false
  lines.forEach((raw, index) => {
    const line = raw.trim()
    const name = line.replace(/^--\s*wukong\s*:\s*/i, '').trim()
    if (name === 'no-transaction') transactional = false
    else if (name === 'own-timeouts') ownTimeouts = true
    else if (/^allow\b/i.test(name)) {
      // The linter's acknowledgement of the statement below it (wukong-migrate lint).
    } else {
      const column = raw.length - raw.trimStart().length + 1
      const reason = `unknown directive "${line}"; the directives are "${NO_TRANSACTION_DIRECTIVE}" and "${OWN_TIMEOUTS_DIRECTIVE}", each on its own line at the top of the file`
      throw new MigrationError('UNKNOWN_DIRECTIVE', reason, { file, line: index + 1, column })
    }
  })
  return { transactional, ownTimeouts }
}

function hazardMessage(hazard: StatementHazard, version: number, direction: 'up' | 'down'): string {
  switch (hazard.code) {
    case 'LEDGER_WRITE':
      return `${hazard.what} is not allowed in a migration file: the ledgers (schema_versions, kysely_migration) are the migration tool's, and a changed ledger makes files run again or never${direction === 'down' ? ` (a down file may only DELETE FROM schema_versions WHERE version = ${version}, its own row, which the tool deletes anyway)` : ''}`
    case 'MIGRATION_LOCK_RELEASE':
      return `${hazard.what} is not allowed in a migration file: it can release the migration lock, and another migrator could then run the same files at the same time`
    case 'LIMIT_OVERRIDE':
      return `${hazard.what} is not allowed here: it would change the lock_timeout/statement_timeout the runner sets for every statement (--lock-timeout, --statement-timeout); delete it, or put "${OWN_TIMEOUTS_DIRECTIVE}" on its own line at the top of the file to let the file set its own`
  }
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
    default:
      return NEVER_IN_TRANSACTION[kind]
  }
}

const NEVER_IN_TRANSACTION: Readonly<Record<string, string>> = {
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  CreateTableSpaceStmt: 'CREATE TABLESPACE',
  DropTableSpaceStmt: 'DROP TABLESPACE',
  AlterSystemStmt: 'ALTER SYSTEM',
  CreateSubscriptionStmt: 'CREATE SUBSCRIPTION',
  DropSubscriptionStmt: 'DROP SUBSCRIPTION',
}

function copyWithClient(kind: string, node: Node): string | undefined {
  if (kind !== 'CopyStmt' || node['filename'] !== undefined || node['is_program']) return undefined
  return node['is_from'] ? 'COPY … FROM STDIN' : 'COPY … TO STDOUT'
}

function relationsOf(node: unknown): string[] {
  const found = new Set<string>()
  eachNode(node, (record) => {
    if (typeof record['relname'] !== 'string') return
    const schema = typeof record['schemaname'] === 'string' ? `${quoteIdent(record['schemaname'])}.` : ''
    found.add(`${schema}${quoteIdent(record['relname'])}`)
  })
  return [...found]
}

function concurrentIndexOf(node: Node): ConcurrentIndex {
  const relation = node['relation'] as { relname: string; schemaname?: string }
  const schema = relation.schemaname ? `${quoteIdent(relation.schemaname)}.` : ''
  return Object.freeze({
    ...(typeof node['idxname'] === 'string' ? { name: node['idxname'] } : {}),
    table: `${schema}${quoteIdent(relation.relname)}`,
  })
}

function readLedgerInsert(
  node: Node,
  version: number,
  start: number,
  end: number,
  fail: (code: MigrationErrorCode, message: string) => MigrationError,
): LedgerInsert {
  const cols = ((node['cols'] as { ResTarget?: { name?: string } }[] | undefined) ?? []).map((c) => c.ResTarget?.name)
  const versionIndex = cols.length ? cols.indexOf('version') : 0
  const descriptionIndex = cols.length ? cols.indexOf('description') : 1
  const select = (node['selectStmt'] as { SelectStmt?: Node } | undefined)?.SelectStmt
  const rows = (select?.['valuesLists'] as { List?: { items?: Node[] } }[] | undefined) ?? []
  const wrong = (what: string): MigrationError =>
    fail('WRONG_LEDGER_VERSION', `${what}; a file may record only its own version (${version}) in schema_versions`)
  if (versionIndex === -1 || rows.length !== 1) {
    throw wrong('this schema_versions INSERT does not insert exactly one VALUES row with a literal version')
  }
  const items = rows[0]!.List?.items ?? []
  const constant = items[versionIndex]?.['A_Const'] as { ival?: { ival?: number } } | undefined
  const inserted = constant?.ival ? (constant.ival.ival ?? 0) : undefined
  if (inserted !== version) {
    throw wrong(`this INSERT records version ${inserted ?? '(not a literal integer)'} in schema_versions`)
  }
  const description = (items[descriptionIndex]?.['A_Const'] as { sval?: { sval?: string } } | undefined)?.sval?.sval
  return Object.freeze({ start, end, description })
}

function skipSpaceAndComments(text: string, from: number, to: number): number {
  let i = from
  while (i < to) {
    const c = text[i]
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      // A comment ends at LF or CR, as in PostgreSQL's scanner.
      const nl = nextLineBreak(text, i)
      i = nl === -1 ? to : nl + 1
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1
      i += 2
      while (i < to && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++
          i += 2
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--
          i += 2
        } else {
          i++
        }
      }
    } else {
      break
    }
  }
  return i
}
