import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'

import { DATABASE_URL_VARIABLES } from '../connect/resolve-database-url.js'
import { UsageError } from './cli-error.js'

/** Real environment > later file > earlier file, as `node --env-file` reads them; `process.env` is left alone. */
export function loadEnvFiles(env: NodeJS.ProcessEnv, cwd: string, explicit: readonly string[]): NodeJS.ProcessEnv {
  const paths = (explicit.length ? explicit : ['.env', '.env.local']).map((f) => resolve(cwd, f))
  const merged: NodeJS.ProcessEnv = {}
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
    // parseEnv would read a byte-order mark as part of the first name.
    const vars = parseEnv(text.replace(/^\uFEFF/, ''))
    // `DATABASE_URL: …` skipped would quietly pick the embedded database.
    text.split(/\r?\n/).forEach((line, i) => {
      const name = DATABASE_URL_VARIABLES.find((n) => new RegExp(`^\\s*(export\\s+)?${n}\\b`).test(line))
      if (name && vars[name] === undefined)
        throw new UsageError(`${path}:${i + 1}: this line does not set ${name}; write ${name}=postgres://…`)
    })
    Object.assign(merged, vars)
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value
  return merged
}
