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
export const DEFAULT_MIGRATION_FOLDER: string = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations')
