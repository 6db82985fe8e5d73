import { groupOf, type SchemaDifference, type SchemaFact, type SchemaFacts } from '../schema-diff/index.js'
import type { Palette } from './colors.js'
import { plural } from './format.js'

/** Grouped by table, so a column's change reads next to its table's other changes. */
export function differenceLines(differences: readonly SchemaDifference[], c: Palette, indent = ''): string[] {
  const lines: string[] = []
  let group: string | undefined
  for (const d of differences) {
    const g = groupOf(d)
    if (g !== group) {
      if (group !== undefined) lines.push('')
      group = g
      lines.push(`${indent}${c.bold(g)}`)
    }
    const [sign, colour] =
      d.change === 'added' ? ['+', c.green] : d.change === 'dropped' ? ['-', c.red] : ['~', c.yellow]
    const self = !d.table && `${d.kind} ${d.schema ? `${d.schema}.` : ''}${d.name}` === g
    const label = self ? d.kind : `${d.kind} ${d.name}`
    if (d.change !== 'changed') {
      const facts = SUMMARY[d.kind]?.((d.actual ?? d.expected)!) ?? ''
      lines.push(`${indent}  ${colour(`${sign} ${label}`)}${facts ? `  ${c.dim(facts)}` : ''}`)
      continue
    }
    const short = d.fields.filter((f) => !isLong(f.expected) && !isLong(f.actual))
    const inline = short.map((f) => `${f.field}: ${show(f.expected)} → ${show(f.actual)}`).join('; ')
    lines.push(`${indent}  ${colour(`${sign} ${label}`)}${inline ? `  ${inline}` : ''}`)
    for (const f of d.fields.filter((x) => !short.includes(x))) {
      lines.push(`${indent}      ${f.field}:`)
      for (const [mark, text] of lineChanges(String(f.expected ?? ''), String(f.actual ?? ''))) {
        lines.push(`${indent}      ${mark === '-' ? c.red(`- ${text}`) : c.green(`+ ${text}`)}`)
      }
    }
  }
  return lines
}

export function differenceTally(differences: readonly SchemaDifference[]): string {
  const count = (change: SchemaDifference['change']) => differences.filter((d) => d.change === change).length
  const parts = (['added', 'dropped', 'changed'] as const).filter((k) => count(k)).map((k) => `${count(k)} ${k}`)
  return `${plural(differences.length, 'difference')}${parts.length ? ` (${parts.join(', ')})` : ''}`
}

const definition = (facts: SchemaFacts): string => String(facts['definition'] ?? '')
const type = (facts: SchemaFacts): string => String(facts['type'] ?? '')

// The facts shown beside an added or dropped object; kinds not listed show none.
const SUMMARY: Partial<Record<SchemaDifference['kind'], (facts: SchemaFacts) => string>> = {
  column: (f) =>
    [
      f['type'],
      f['notNull'] ? 'not null' : '',
      f['default'] ? `default ${f['default']}` : '',
      f['identity'] ? `identity ${f['identity']}` : '',
    ]
      .filter(Boolean)
      .join(' '),
  index: (f) => `${f['definition']}${f['valid'] === false ? ' (INVALID)' : ''}`,
  constraint: definition,
  trigger: definition,
  function: (f) => definition(f).split('\n')[0]!,
  procedure: (f) => definition(f).split('\n')[0]!,
  enum: (f) => `(${(f['values'] as readonly string[] | null)?.join(', ') ?? ''})`,
  extension: (f) => `version ${f['version']}`,
  sequence: type,
  domain: type,
}

function isLong(value: SchemaFact): boolean {
  return typeof value === 'string' && (value.includes('\n') || value.length > 60)
}

function show(value: SchemaFact): string {
  if (value === null || value === '') return 'none'
  return Array.isArray(value) ? `(${value.join(', ')})` : String(value)
}

// Not a real diff: function bodies differ in a few lines, and those are what a person needs.
function lineChanges(expected: string, actual: string): [string, string][] {
  const [e, a] = [expected.split('\n'), actual.split('\n')]
  const only = (mark: string, lines: string[], other: Set<string>) =>
    lines.filter((l) => !other.has(l)).map((l): [string, string] => [mark, l])
  return [...only('-', e, new Set(a)), ...only('+', a, new Set(e))]
}
