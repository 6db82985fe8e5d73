import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// dbmate is not a devDependency: the registry this project reaches serves only its
// linux-x64 binary package, so a lock file listing it cannot satisfy `npm ci`. The bench
// installs it into its own folder (gitignored) the first time it needs it.
const TOOLS = fileURLToPath(new URL('../.work/tools', import.meta.url))
const VERSION = '2.36.0'

/**
 * The path of the dbmate Go binary (not the npm shim), installing dbmate@2 into
 * bench/.work/tools when neither the project nor that folder has it.
 *
 * @example
 * ```ts
 * await run(dbmateBinary(), ['--version'])
 * ```
 */
export function dbmateBinary(): string {
  const relative = join('node_modules', '@dbmate', `${platform()}-${arch()}`, 'bin', 'dbmate')
  const project = fileURLToPath(new URL(`../../${relative}`, import.meta.url))
  if (existsSync(project)) return project
  const own = join(TOOLS, relative)
  if (!existsSync(own)) {
    execFileSync(
      'npm',
      ['install', '--silent', '--no-audit', '--no-fund', '--no-save', '--prefix', TOOLS, `dbmate@${VERSION}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
  }
  return own
}
