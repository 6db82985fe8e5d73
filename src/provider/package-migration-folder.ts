import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package's own `migrations/` folder, for tools that work on files. Migrating needs no
 * folder: by default the provider uses the same files bundled as `WUKONG_MIGRATIONS`.
 *
 * @example
 * ```ts
 * new SqlFileMigrationProvider({ migrationFolder: DEFAULT_MIGRATION_FOLDER })
 * ```
 */
export const DEFAULT_MIGRATION_FOLDER: string = join(packageRoot(), 'migrations')

// From src/provider/, dist/ or dist/chunks/ alike; not `new URL(…)`, which bundlers resolve as an asset.
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (let dir = here, depth = 0; depth < 4; dir = dirname(dir), depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir
  }
  return join(here, '..', '..')
}

let manifest: { readonly name: string; readonly version: string } | undefined

/** The package's name and version, from its package.json (read once). */
export function packageVersion(): { readonly name: string; readonly version: string } {
  manifest ??= Object.freeze(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')))
  return manifest!
}
