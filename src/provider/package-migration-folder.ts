import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package's own `migrations/` folder (the Wukong schema as files), for tools that work on
 * files: the CLI's default `--dir`, `create`, fixtures. Code that migrates needs no folder: by
 * default the provider uses the same files bundled as a module (`WUKONG_MIGRATIONS`), which
 * survives an app bundler. Computed with path functions rather than `new URL(…, import.meta.url)`,
 * which bundlers try to resolve as an asset at build time.
 *
 * @example
 * ```ts
 * new SqlFileMigrationProvider({ migrationFolder: DEFAULT_MIGRATION_FOLDER })
 * ```
 */
export const DEFAULT_MIGRATION_FOLDER: string = packageMigrationFolder(dirname(fileURLToPath(import.meta.url)))

// The folder beside the nearest package.json above this module: the package root, whether this
// code runs from src/provider/, dist/ or a chunk of the bundled build in dist/chunks/.
function packageMigrationFolder(here: string): string {
  for (let dir = here, depth = 0; depth < 4; dir = dirname(dir), depth++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'migrations')
  }
  return join(here, '..', '..', 'migrations')
}
