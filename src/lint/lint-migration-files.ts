import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

import type { Kysely } from 'kysely'

import { parseMigrationSql } from '../provider/parse-migration-sql.js'
import { loadSqlParser } from '../provider/sql-parser.js'
import { LEDGER_TABLES } from '../provider/ledger.js'
import { decodeSqlFile, lineColumnFinder } from '../provider/sql-text.js'
import { checkStatement, droppedNames, type Hit, relationKey } from './check-statement.js'
import { LINT_RULES, type LintLevel, type LintRule, type LintRuleInfo } from './lint-rules.js'
import { type RelationSize, readRelationStats } from './relation-stats.js'
import { SchemaKnowledge } from './schema-knowledge.js'

/** Serialised as it is by `--json` (docs/lint.md). */
export interface LintFinding extends Pick<LintRuleInfo, 'level' | 'lock' | 'effect' | 'safe'> {
  readonly rule: LintRule
  readonly file: string
  readonly line: number
  readonly column: number
  /** Null for a directive or a database-wide statement. */
  readonly relation: string | null
  readonly message: string
  /** The reason of the `-- wukong:allow` directive that acknowledges it. */
  readonly allowed: string | null
  readonly size: RelationSize | null
}

export interface LintReport {
  readonly files: readonly string[]
  readonly statements: number
  readonly findings: readonly LintFinding[]
  readonly summary: { readonly errors: number; readonly warnings: number; readonly allowed: number }
}

const DML = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'ExplainStmt'])
const ALLOW = /--[ \t]*wukong[ \t]*:[ \t]*allow\b[ \t]*(\S*)[ \t]*([^\r\n]*)/gi
const LEVELS: readonly LintLevel[] = ['warning', 'error']

/** Parses as `migrate` does; with `db`, one catalog query ranks findings by table size and proves changes free. */
export async function lintMigrationFiles(
  files: readonly string[],
  options: { db?: Kysely<any> } = {},
): Promise<LintReport> {
  const { parseSync } = await loadSqlParser()
  const parsed = await Promise.all(
    files.map(async (file) => {
      const name = basename(file)
      const text = decodeSqlFile(readFileSync(file), name)
      const version = Number(/^\d+/.exec(name)?.[0] ?? 0)
      const sql = await parseMigrationSql(text, name, version, name.endsWith('.down.sql') ? 'down' : 'up')
      const statements = sql.statements.map((s) => {
        // The provider locates each statement; its tree comes from parsing its text again.
        const [kind, node] = Object.entries(parseSync(s.text).stmts[0]!.stmt as Record<string, any>)[0]!
        return { ...s, kind, node, names: [...s.relations, ...(kind === 'DropStmt' ? droppedNames(node) : [])] }
      })
      return { file, text, transactional: sql.transactional, statements }
    }),
  )
  const names = parsed.flatMap((p) => p.statements.flatMap((s) => s.names))
  const catalog = options.db ? await readRelationStats(options.db, names) : new Map()
  const schema = new SchemaKnowledge(catalog)
  const findings = parsed.flatMap((p) => {
    const created = new Set<string>()
    const hits = p.statements.map((s) => checkStatement(s.kind, s.node, created, schema))
    // A backfill in one transaction with DDL on an existing table holds the DDL's locks until it ends.
    const ddl = p.statements.some((s) => !DML.has(s.kind) && s.names.some((n) => !created.has(n)))
    p.statements.forEach((s, i) => {
      const target = p.transactional && ddl ? backfillTarget(s.kind, s.node) : undefined
      if (target && !created.has(target)) hits[i]!.push({ rule: 'backfill-with-ddl', relation: target })
    })
    const at = lineColumnFinder(p.text)
    return p.statements.flatMap((s, i) => {
      const gap = i === 0 ? 0 : p.statements[i - 1]!.start + p.statements[i - 1]!.text.length
      const allowed = new Map<string, string>()
      const directives: LintFinding[] = []
      for (const m of p.text.slice(gap, s.start).matchAll(ALLOW)) {
        const [rule, reason] = [m[1]!, m[2]!.trim()]
        const problem = !reason ? 'allow-without-reason' : hits[i]!.some((h) => h.rule === rule) ? null : 'allow-unused'
        if (!problem) allowed.set(rule, reason)
        else directives.push(finding(p.file, at(gap + m.index), { rule: problem, relation: null, detail: m[0] }, null))
      }
      const size = (h: Hit): RelationSize | null => (h.relation && catalog.get(h.relation)?.size) ?? null
      return [...directives, ...hits[i]!.map((h) => finding(p.file, s, h, size(h), allowed.get(h.rule)))]
    })
  })
  const weight = (f: LintFinding): number => LEVELS.indexOf(f.level) * 1e15 + (f.size?.rows ?? 0)
  if (options.db) findings.sort((a, b) => weight(b) - weight(a))
  const open = findings.filter((f) => f.allowed === null)
  const errors = open.filter((f) => f.level === 'error').length
  const summary = { errors, warnings: open.length - errors, allowed: findings.length - open.length }
  return { files: [...files], statements: parsed.reduce((n, p) => n + p.statements.length, 0), findings, summary }
}

export function lintFails(report: LintReport, failOn: LintLevel): boolean {
  return report.findings.some((f) => f.allowed === null && LEVELS.indexOf(f.level) >= LEVELS.indexOf(failOn))
}

function finding(
  file: string,
  at: { line: number; column: number },
  hit: Hit,
  size: RelationSize | null,
  allowed?: string,
): LintFinding {
  const { level, lock, effect, why, safe } = LINT_RULES[hit.rule]
  // Nothing waits on an empty or new table, and everything on a big or busy one.
  const ranked = !size ? level : !size.exists || size.empty ? 'warning' : size.big || size.busy ? 'error' : level
  return {
    rule: hit.rule,
    level: ranked,
    file,
    line: at.line,
    column: at.column,
    relation: hit.relation,
    lock: hit.lock ?? lock,
    effect,
    message: hit.detail ? `${why} (${hit.detail.trim()})` : why,
    safe,
    allowed: allowed ?? null,
    size,
  }
}

function backfillTarget(kind: string, node: Record<string, any>): string | undefined {
  if (kind === 'InsertStmt' && !node['selectStmt']?.['SelectStmt']?.['fromClause']) return undefined
  // The ledger's own row (a down file deletes it) is bookkeeping, not a backfill.
  if (LEDGER_TABLES.includes(node['relation']?.relname)) return undefined
  return ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].includes(kind)
    ? relationKey(node['relation'])
    : undefined
}
