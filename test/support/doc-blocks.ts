import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * A TypeScript block of the documentation: a fenced block of a Markdown file, or the
 * `@example` of a JSDoc comment in src/.
 */
export interface DocBlock {
  /** `README.md:42` or `src/cli/run-cli.ts:37`, for messages. */
  readonly where: string
  /** The file it comes from, relative to the repository root. */
  readonly file: string
  readonly line: number
  readonly code: string
  /**
   * From the fence's info string: `ts` is type-checked only, `ts run` also runs with node
   * (against a fresh database in `DATABASE_URL`), `ts test` also runs as a vitest file.
   */
  readonly mode: 'check' | 'run' | 'test'
}

const FENCE = /^```(ts|typescript)((?: +[\w-]+)*)\s*$/

/**
 * The ```ts blocks of a Markdown file.
 *
 * @example
 * ```ts
 * markdownBlocks(ROOT, 'README.md').filter((b) => b.mode === 'run')
 * ```
 */
export function markdownBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!)
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    const words = open[2]!.trim().split(/\s+/)
    const mode = words.includes('run') ? 'run' : words.includes('test') ? 'test' : 'check'
    blocks.push({ where: `${file}:${start + 1}`, file, line: start + 1, code: `${body.join('\n')}\n`, mode })
  }
  return blocks
}

/**
 * The ```ts blocks that follow `@example` in the JSDoc comments of a TypeScript file.
 *
 * @example
 * ```ts
 * jsdocExamples(ROOT, 'src/cli/run-cli.ts')
 * ```
 */
export function jsdocExamples(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\s*$/.test(lines[i]!)) continue
    const fence = i + 1
    if (!/^\s*\*\s*```(ts|typescript)\s*$/.test(lines[fence] ?? '')) continue
    const body: string[] = []
    for (i = fence + 1; i < lines.length && !/^\s*\*\s*```\s*$/.test(lines[i]!); i++)
      body.push(lines[i]!.replace(/^\s*\* ?/, ''))
    blocks.push({ where: `${file}:${fence + 1}`, file, line: fence + 1, code: `${body.join('\n')}\n`, mode: 'check' })
  }
  return blocks
}

/**
 * Every file under `dir` (relative to `root`) whose name ends with `suffix`.
 *
 * @example
 * ```ts
 * filesUnder(ROOT, 'src', '.ts')
 * ```
 */
export function filesUnder(root: string, dir: string, suffix: string): string[] {
  const out: string[] = []
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.endsWith(suffix)) out.push(relative(root, full))
    }
  }
  walk(join(root, dir))
  return out.sort()
}

/**
 * The names a module exports by declaration (`export function f`, `export class C`,
 * `export const x`, `export type T`, …), for examples that use them without an import.
 *
 * @example
 * ```ts
 * exportedNames('export function a() {}\nexport type B = 1') // ['a', 'B']
 * ```
 */
export function exportedNames(source: string): string[] {
  const names = new Set<string>()
  for (const m of source.matchAll(
    /^export (?:declare )?(?:abstract )?(?:async )?(?:function\*?|class|const|let|type|interface|enum) +([A-Za-z_$][\w$]*)/gm,
  ))
    names.add(m[1]!)
  return [...names]
}

/**
 * The names an example imports itself, so the prelude does not import them again.
 *
 * @example
 * ```ts
 * importedNames("import { a, type B as C } from 'x'") // ['a', 'C']
 * ```
 */
export function importedNames(code: string): string[] {
  const names: string[] = []
  for (const m of code.matchAll(
    /^import\s+(?:type\s+)?(?:([A-Za-z_$][\w$]*)\s*,?\s*)?(?:\{([^}]*)\}|\*\s+as\s+([A-Za-z_$][\w$]*))?\s*from/gm,
  )) {
    if (m[1]) names.push(m[1])
    if (m[3]) names.push(m[3])
    for (const part of (m[2] ?? '').split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)!
        .trim()
      if (name) names.push(name)
    }
  }
  return names
}
