import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { thrownText } from './thrown-text.js'

/**
 * Why PGlite could not open a data folder, in words that say what happened and what to do:
 * PGlite's own errors ("PGlite failed to initialize properly", an errno of its virtual file
 * system, an aborted WebAssembly runtime) name neither. The folder is looked at to tell a
 * folder of another PostgreSQL version or a damaged one from one that is no PGlite folder.
 */
export function embeddedOpenFailure(folder: string, error: unknown): string {
  const said = thrownText(error)
  const aside = `move ${folder} aside (or delete it, if its data is disposable) so a new one is created, or point WUKONG_PGLITE_DIR at another folder`
  if (/\bEACCES\b|\bEPERM\b|permission denied/i.test(said))
    return `the process may not read or write ${folder} (${said}): give it access, or point WUKONG_PGLITE_DIR at another folder`
  if (/\bAborted\(|RuntimeError|unreachable/i.test(said))
    return `the embedded database's WebAssembly runtime aborted while opening the folder (${said}); run again, and if it repeats the folder is damaged: ${aside}`
  let version: string | undefined
  let entries: string[] = []
  try {
    entries = readdirSync(folder)
    version = readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim()
  } catch {
    // no PG_VERSION (or no folder): judged below from the entries
  }
  if (version !== undefined && !/^\d+$/.test(version))
    return `${folder} is not a PGlite data folder, or it is damaged: its PG_VERSION file reads "${version.slice(0, 40)}" (${said}); ${aside}`
  if (version !== undefined)
    return `${folder} holds a PostgreSQL ${version} data folder that this PGlite cannot open: made by another PGlite version, or damaged (${said}); ${aside}`
  if (entries.length > 0)
    return `${folder} is not empty and holds no PostgreSQL data (no PG_VERSION file): it is not a PGlite data folder (${said}); ${aside}`
  return said
}
