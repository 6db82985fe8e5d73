import type { LintFinding, LintReport } from './lint-migration-files.js'
import type { RelationSize } from './relation-stats.js'

/** The CLI's palette fits, and lint stays free of the CLI. */
export type LintStyle = Readonly<Record<'bold' | 'dim' | 'red' | 'yellow', (text: string) => string>>

const PLAIN: LintStyle = { bold: String, dim: String, red: String, yellow: String }

export function renderLintReport(report: LintReport, options: { style?: LintStyle } = {}): string {
  const c = options.style ?? PLAIN
  const lines = report.findings.flatMap((f) => block(f, c))
  const { errors, warnings, allowed } = report.summary
  const counts = [
    errors && count(errors, 'error'),
    warnings && count(warnings, 'warning'),
    allowed && `${allowed} allowed`,
  ]
  const found = counts.filter(Boolean).join(', ') || 'no findings'
  const files = count(report.files.length, 'file')
  return [...lines, `${c.bold(found)} in ${files} (${count(report.statements, 'statement')})`].join('\n')
}

function block(f: LintFinding, c: LintStyle): string[] {
  const level = f.allowed !== null ? c.dim('allowed') : f.level === 'error' ? c.red('error') : c.yellow('warning')
  const lock = f.lock
    ? `${f.lock} lock${f.effect === 'none' ? '' : `, ${f.effect === 'rewrite' ? 'rewrites' : 'scans'} the table`}`
    : ''
  const facts = [f.relation, lock, f.size && sizeText(f.size)].filter(Boolean).join(' · ')
  return [
    `${f.file}:${f.line}:${f.column}  ${level}  ${c.bold(f.rule)}${facts ? `  ${facts}` : ''}`,
    `  ${f.message}`,
    f.allowed !== null ? `  ${c.dim(`allowed: ${f.allowed}`)}` : `  safe: ${f.safe}`,
  ]
}

function sizeText(size: RelationSize): string {
  if (!size.exists) return 'new'
  if (size.empty) return 'empty'
  const mb = size.bytes / (1024 * 1024)
  const tags = [size.big ? 'big' : '', size.busy ? 'busy' : ''].filter(Boolean).join(', ')
  return `~${Math.round(size.rows).toLocaleString('en-US')} rows, ${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB, ${count(size.scans, 'scan')}${tags ? ` (${tags})` : ''}`
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`
}
