import { basename } from 'node:path'

import { lintMigrationFiles, type LintRule } from '../lint/index.js'
import { MigrationError, parseMigrationFiles, scanMigrationFolder, type MigrationFile } from '../provider/index.js'
import { DIRECTIVE_LINE, directiveLineCount } from '../provider/parse-migration-sql.js'
import { LINE_BREAK } from '../provider/sql-text.js'
import type { CliOutput } from './cli-output.js'

/** Reported, but the folder still migrates; a lint rule's code for a statement that would block a live app. */
export interface VerifyWarning {
  readonly code: 'VERSION_GAP' | 'IGNORED_DIRECTIVE' | 'NO_MIGRATIONS' | LintRule
  readonly message: string
  readonly file: string | null
  readonly line: number | null
}

/** The reader's own rules in its collect-all mode, so one CI run lists every broken file. */
export async function verifyMigrationFolder(folder: string) {
  const problems: MigrationError[] = []
  const report = (error: MigrationError): void => void problems.push(error)
  let files: readonly MigrationFile[] = []
  try {
    files = await parseMigrationFiles(scanMigrationFolder(folder, { report }), { report })
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error
    problems.push(error) // the folder itself cannot be read
  }
  const errors = problems.sort((x, y) => (x.file ?? '').localeCompare(y.file ?? ''))
  if (errors.length) return Object.freeze({ files: [], errors, warnings: [] })

  const warnings: VerifyWarning[] = []
  if (files.length === 0) {
    warnings.push({ code: 'NO_MIGRATIONS', message: `${folder} has no migration files`, file: null, line: null })
  }
  for (let i = 1; i < files.length; i++) {
    const [a, b] = [files[i - 1]!, files[i]!]
    if (b.version !== a.version + 1) {
      const missing =
        b.version - a.version === 2 ? `version ${a.version + 1} is` : `versions ${a.version + 1}–${b.version - 1} are`
      warnings.push({
        code: 'VERSION_GAP',
        message: `${missing} not used between ${a.fileName} and ${b.fileName} (allowed, but usually a file that was renamed or not committed)`,
        file: b.fileName,
        line: null,
      })
    }
  }
  for (const part of files.flatMap((f) => (f.down ? [f, f.down] : [f]))) {
    const top = directiveLineCount(part.text)
    part.text.split(LINE_BREAK).forEach((text, index) => {
      if (index >= top && DIRECTIVE_LINE.test(text)) {
        warnings.push({
          code: 'IGNORED_DIRECTIVE',
          message: `"${text.trim()}" on line ${index + 1} is ignored: directives count only at the very top of the file, before any other line`,
          file: part.fileName,
          line: index + 1,
        })
      }
    })
  }
  return Object.freeze({ files, errors, warnings })
}

/** What `lint` says of the files, as warnings: a folder that migrates may still block a live app. */
export async function lintWarnings(paths: readonly string[]): Promise<VerifyWarning[]> {
  const { findings } = await lintMigrationFiles(paths)
  return findings
    .filter((f) => f.allowed === null)
    .map((f) => ({ code: f.rule, message: `${f.message}; safe: ${f.safe}`, file: basename(f.file), line: f.line }))
}

/** On stderr, as `warning[CODE]: file:line: message`. */
export function printWarnings(out: CliOutput, warnings: readonly VerifyWarning[]): void {
  for (const w of warnings) {
    const at = w.file ? `${w.file}${w.line ? `:${w.line}` : ''}: ` : ''
    out.error(`${out.err.yellow(out.err.bold(`warning[${w.code}]`))}: ${at}${w.message}`)
  }
}
