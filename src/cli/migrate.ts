/**
 * The `wukong-migrate` command line (also `npm run migrate`, `npm run migrate:status`,
 * `tsx src/cli/migrate.ts <command>`). See the README, "The command line", or run it with --help.
 *
 * @example
 * ```sh
 * tsx src/cli/migrate.ts status --check || tsx src/cli/migrate.ts migrate
 * ```
 */
import { redact } from '../connect/redact.js'
import { knownSecrets } from './database-target.js'
import { EXIT } from './exit-codes.js'
import { runCli } from './run-cli.js'

let code: number
try {
  code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  })
} catch (error) {
  // runCli reports every failure itself; this is the last guard against a bug, and it must not
  // let Node print the error object (a URL error's `input` holds the whole URL, password and all).
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  process.stderr.write(`error[UNEXPECTED]: ${redact(message, knownSecrets(process.argv, process.env))}\n`)
  code = EXIT.FAILED
}
process.exitCode = code
// Everything the CLI opened is closed by now, so Node exits on its own with the output fully
// flushed; should a driver leave a handle behind, do not hang a deploy on it.
setTimeout(() => process.exit(code), 2000).unref()
