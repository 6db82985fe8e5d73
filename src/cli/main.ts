// The command line as the bin runs it: runCli on this process, and an exit that nothing can hold up.
import { redact } from '../connect/redact.js'
import { knownSecrets } from './database-target.js'
import { EXIT } from './exit-codes.js'
import { runCli } from './run-cli.js'

export async function main(argv: readonly string[]): Promise<void> {
  let code: number
  try {
    code = await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() })
  } catch (error) {
    // Never let Node print the error object: a URL error's `input` holds the password.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    process.stderr.write(`error[UNEXPECTED]: ${redact(message, knownSecrets(argv, process.env))}\n`)
    code = EXIT.FAILED
  }
  process.exitCode = code
  // Node exits on its own once output is flushed; a handle a driver left behind must not hang a deploy.
  setTimeout(() => process.exit(code), 2000).unref()
}
