import type { MigrationRunner } from '../runner/runner.js'
import type { CliOutput } from './cli-output.js'
import { EXIT, type ExitCode } from './exit-codes.js'

/** The signals a command that opens a database answers, and the exit code a shell expects for each. */
const SIGNALS = { SIGINT: EXIT.INTERRUPTED, SIGTERM: EXIT.TERMINATED } as const

/** What a command's runners share with the signal handlers: the abort, and who is running. */
export interface Interrupts {
  readonly signal: AbortSignal
  /** The runners open now, to name what may still run on the server after a second signal. */
  readonly runners: Set<MigrationRunner>
  /** Once a signal came: the exit code the command ends with (130 or 143). */
  exitCode: ExitCode | undefined
}

// Longest wait for dropping shadow databases after an interrupt, so a dead server cannot hold the exit.
const SHADOW_DROP_BOUND_MS = 10_000

/** The first signal aborts the runners (the command reports what committed) and drops open shadows; a second exits at once. */
export async function withInterrupts(
  out: CliOutput,
  body: (interrupts: Interrupts) => Promise<ExitCode>,
): Promise<ExitCode> {
  const controller = new AbortController()
  const interrupts: Interrupts = { signal: controller.signal, runners: new Set(), exitCode: undefined }
  const handlers = (Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]).map((signal) => {
    const handler = (): void => {
      if (interrupts.exitCode === undefined) {
        interrupts.exitCode = SIGNALS[signal]
        out.error(
          `${signal}: stopping: no further file starts, and the statement in flight is canceled on the server where it can be (send ${signal} again to exit at once)`,
        )
        controller.abort(new Error(signal))
        return
      }
      out.error(`${signal} again: exiting at once; ${stillRunning(interrupts.runners)}`)
      process.exit(interrupts.exitCode)
    }
    process.on(signal, handler)
    return [signal, handler] as const
  })
  try {
    const code = await body(interrupts)
    if (interrupts.exitCode !== undefined) {
      // Loaded only after a signal: the schema-diff code (and Kysely) stays out of every other run.
      const { dropOpenShadowDatabases } = await import('../schema-diff/shadow-database.js')
      await Promise.race([dropOpenShadowDatabases(), new Promise((r) => setTimeout(r, SHADOW_DROP_BOUND_MS).unref())])
    }
    return code
  } finally {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler)
  }
}

function stillRunning(runners: ReadonlySet<MigrationRunner>): string {
  const running = [...runners].flatMap((r) => (r.inFlight ? [r.inFlight] : []))
  if (running.length === 0) return 'no migration file was running'
  const pid = (backendPid?: number) => (backendPid === undefined ? '' : `, backend pid ${backendPid}`)
  return running.map((r) => `${r.files.join(', ')} may still be running on the server${pid(r.backendPid)}`).join('; ')
}
