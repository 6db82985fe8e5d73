import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'

import { DATABASE_URL_VARIABLES } from '../connect/resolve-database-url.js'
import { UsageError } from './describe-error.js'

/** The files read when no `--env-file` is given, in order: a later file wins over an earlier one. */
export const DEFAULT_ENV_FILES = ['.env', '.env.local'] as const

/** The environment a command runs with, and the files that contributed to it. */
export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv
  /** Absolute paths of the files read, in order. */
  readonly files: readonly string[]
}

/**
 * The CLI's environment: the process's own variables over those of the env files, so a
 * variable already set is never overridden. The files are `--env-file` paths when given (each
 * must exist), else `.env` then `.env.local` in `cwd` when present; a later file wins over an
 * earlier one. So: real environment > `.env.local` > `.env`. Files are parsed with Node's own
 * `util.parseEnv` (the format of `node --env-file`: CRLF, `export`, quotes, comments) after
 * dropping a byte-order mark, which it would read as part of the first name. A line that names
 * a database URL variable but does not set it (`DATABASE_URL: …`) is a usage error: skipping it
 * would quietly pick the embedded database. The process environment is not changed.
 */
export function loadEnvFiles(env: NodeJS.ProcessEnv, cwd: string, explicit: readonly string[]): CliEnvironment {
  const paths = explicit.length ? explicit.map((f) => resolve(cwd, f)) : DEFAULT_ENV_FILES.map((f) => resolve(cwd, f))
  const merged: NodeJS.ProcessEnv = {}
  const files: string[] = []
  for (const path of paths) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (!explicit.length && (code === 'ENOENT' || code === 'EISDIR')) continue
      throw new UsageError(
        `${explicit.length ? '--env-file ' : 'cannot read '}${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      )
    }
    const vars = parseEnv(text.replace(/^\uFEFF/, ''))
    text.split(/\r?\n/).forEach((line, i) => {
      const name = DATABASE_URL_VARIABLES.find((n) => new RegExp(`^\\s*(export\\s+)?${n}\\b`).test(line))
      if (name && vars[name] === undefined)
        throw new UsageError(`${path}:${i + 1}: this line does not set ${name}; write ${name}=postgres://…`)
    })
    Object.assign(merged, vars)
    files.push(path)
  }
  if (!files.length) return Object.freeze({ env, files })
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value
  return Object.freeze({ env: merged, files: Object.freeze(files) })
}
