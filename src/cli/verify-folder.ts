import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'

import { MIGRATION_FILE_PATTERN, MigrationError, readMigrationFolder, type MigrationFile } from '../provider/index.js'
import { DIRECTIVE_LINE, directiveLineCount, parseMigrationSql } from '../provider/parse-migration-sql.js'
import { decodeSqlFile, LINE_BREAK } from '../provider/sql-text.js'

/** Something `verify` reports without failing: the folder still migrates. */
export interface VerifyWarning {
  readonly code: 'VERSION_GAP' | 'IGNORED_DIRECTIVE' | 'NO_MIGRATIONS'
  readonly message: string
  readonly file?: string
  readonly line?: number
}

/** What {@link verifyMigrationFolder} found. */
export interface VerifyReport {
  /** The files, when the folder is valid (empty otherwise). */
  readonly files: readonly MigrationFile[]
  /** Every problem that makes migrate refuse the folder, not only the first. */
  readonly errors: readonly MigrationError[]
  readonly warnings: readonly VerifyWarning[]
}

/**
 * Checks a migration folder without any database, as migrate would before connecting:
 * file names, duplicate versions, digit widths, down files, encoding, SQL syntax (PostgreSQL's
 * own parser), transaction control and `-- wukong:` directives. Unlike migrate, which stops
 * at the first problem, it reports every broken file, so one CI run lists them all. Gaps in
 * the numbering and a directive below the file's top (and so ignored) are
 * warnings.
 *
 * @example
 * ```ts
 * const report = await verifyMigrationFolder('migrations')
 * if (report.errors.length) process.exitCode = 1
 * ```
 */
export async function verifyMigrationFolder(folder: string): Promise<VerifyReport> {
  let files: readonly MigrationFile[] = []
  let errors: MigrationError[] = []
  try {
    files = await readMigrationFolder(folder)
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error
    errors = error.code === 'FOLDER_NOT_FOUND' ? [error] : await everyProblem(folder, error)
  }

  const warnings: VerifyWarning[] = []
  if (errors.length === 0 && files.length === 0) {
    warnings.push({ code: 'NO_MIGRATIONS', message: `${folder} has no migration files` })
  }
  for (let i = 1; i < files.length; i++) {
    const [a, b] = [files[i - 1]!, files[i]!]
    if (b.version !== a.version + 1) {
      const missing = b.version - a.version === 2 ? `version ${a.version + 1} is` : `versions ${a.version + 1}–${b.version - 1} are`
      warnings.push({
        code: 'VERSION_GAP',
        message: `${missing} not used between ${a.fileName} and ${b.fileName} (allowed, but usually a file that was renamed or not committed)`,
        file: b.fileName,
      })
    }
  }
  for (const file of files) {
    for (const part of [file, file.down]) {
      if (!part) continue
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
  }
  return Object.freeze({ files, errors, warnings })
}

/**
 * The folder reader stops at its first problem. To list them all: check each file on its own
 * (name, link, encoding, SQL) with the reader's own functions, then run the reader again on a
 * scratch copy without the files already blamed, until it passes, so the folder-level checks
 * (duplicate versions, orphan down files, mixed widths) stay the reader's, not a copy of them.
 */
async function everyProblem(folder: string, first: MigrationError): Promise<MigrationError[]> {
  const root = await realpath(folder)
  const problems: MigrationError[] = []
  const candidates: string[] = []
  for (const fileName of (await readdir(root)).sort()) {
    // As the reader: only `.sql` names count, and each must be a regular file.
    if (fileName.startsWith('.') || !fileName.toLowerCase().endsWith('.sql')) continue
    const info = await stat(join(root, fileName)).catch(() => undefined)
    const problem =
      info && !info.isFile()
        ? new MigrationError('UNREADABLE_FILE', `is ${info.isDirectory() ? 'a directory' : 'not a regular file'}, not a migration file`, { file: fileName })
        : await fileProblem(root, fileName)
    if (problem) problems.push(problem)
    else candidates.push(fileName)
  }
  const add = (error: MigrationError): boolean => {
    if (problems.some((p) => p.code === error.code && p.file === error.file)) return false
    problems.push(error)
    return true
  }
  add(first)

  const scratch = await mkdtemp(join(tmpdir(), 'wukong-verify-'))
  try {
    let left = candidates.filter((f) => !problems.some((p) => p.file === f))
    while (left.length) {
      await rm(scratch, { recursive: true, force: true })
      await mkdir(scratch)
      await Promise.all(left.map((f) => copyFile(join(root, f), join(scratch, f))))
      try {
        await readMigrationFolder(scratch)
        break
      } catch (error) {
        if (!(error instanceof MigrationError) || !error.file || !left.includes(error.file) || !add(error)) break
        left = left.filter((f) => f !== error.file)
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  return problems.sort((a, b) => (a.file ?? '').localeCompare(b.file ?? ''))
}

async function fileProblem(root: string, fileName: string): Promise<MigrationError | undefined> {
  const match = MIGRATION_FILE_PATTERN.exec(fileName)
  if (!match) {
    return new MigrationError(
      'INVALID_FILE_NAME',
      `not a migration file name; expected NNN_descriptive_name.sql (at least 3 zero-padded digits, then lower-case words joined by underscores, e.g. 005_add_session_tags.sql)`,
      { file: fileName },
    )
  }
  try {
    const real = await realpath(join(root, fileName))
    if (!real.startsWith(root + sep)) {
      return new MigrationError('FILE_OUTSIDE_FOLDER', `is a link to ${real}, outside the migration folder; copy the file in instead`, { file: fileName })
    }
    const text = decodeSqlFile(await readFile(real), fileName)
    await parseMigrationSql(text, fileName, Number(match[1]), match[3] ? 'down' : 'up')
    return undefined
  } catch (error) {
    if (error instanceof MigrationError) return error
    return new MigrationError('UNREADABLE_FILE', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: fileName, cause: error })
  }
}
