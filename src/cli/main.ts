// The command line as the bin runs it: runCli on this process, and an exit that nothing can hold up.
import { redact } from '../connect/redact.js'
import { whenSqlParserNeeded } from '../provider/sql-parser.js'
import { knownSecrets } from './database-target.js'
import { EXIT } from './exit-codes.js'
import { runCli } from './run-cli.js'

export async function main(argv: readonly string[]): Promise<void> {
  relaunchBeforeParsing()
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

// Once the SQL parser (1 MB of WebAssembly) has run, V8 optimises it on background threads and the
// process cannot exit until that is done: about 0.3 s of CPU for code never run again. Node's
// --liftoff-only prevents it, but any V8 flag makes Node discard its code cache (10–30 ms on every
// command), and V8 flags cannot change at run time. So the bin starts without it and, the first time
// the parser or the engine is about to load (nothing written yet, no lock held), replaces itself
// with the same command line under the flag: same pid, same stdio, signals still reach it.
function relaunchBeforeParsing(): void {
  if (process.execArgv.includes('--liftoff-only') || typeof process.execve !== 'function') return
  if (process.platform === 'win32') return
  whenSqlParserNeeded(() => {
    whenSqlParserNeeded(undefined)
    const args = [process.execPath, '--liftoff-only', ...process.execArgv, ...process.argv.slice(1)]
    try {
      process.execve?.(process.execPath, args, process.env)
    } catch {
      // Carry on in this process: the same work, with a slower exit.
    }
  })
}
