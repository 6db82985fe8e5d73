/**
 * The `wukong-migrate` command line (also `npm run migrate`, `npm run migrate:status`,
 * `tsx src/cli/migrate.ts <command>`). See docs/cli.md, or run it with --help.
 *
 * @example
 * ```sh
 * tsx src/cli/migrate.ts status --check || tsx src/cli/migrate.ts migrate
 * ```
 */
import { runCli } from './run-cli.js'

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() })
process.exitCode = code
// Everything the CLI opened is closed by now, so Node exits on its own with the output fully
// flushed; should a driver leave a handle behind, do not hang a deploy on it.
setTimeout(() => process.exit(code), 2000).unref()
