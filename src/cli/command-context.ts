import type { ApplyEvent } from '../provider/index.js'
import { MigrationRunner } from '../runner/runner.js'
import type { CliOutput, CliIo } from './cli-output.js'
import type { DatabaseTarget } from './database-target.js'
import type { ExitCode } from './exit-codes.js'
import { displayPath } from './format.js'
import type { Interrupts } from './interrupts.js'
import type { CliFlag, FLAGS } from './flag-table.js'

/** The commands of `wukong-migrate` (`up` is read as `migrate`; `--version` is `version`). */
export type CliCommand = CommandName | 'version'
export type CommandName = 'migrate' | 'status' | 'down' | 'create' | 'plan' | 'verify' | 'diff' | 'lint' | 'help'

type Flags = typeof FLAGS
type ValueOf<F> = F extends { multiple: true }
  ? readonly string[]
  : F extends { value: 'ms' | 'version' }
    ? number | undefined
    : F extends { value: string }
      ? string | undefined
      : boolean

/** Derived from `FLAGS`, so a new flag cannot be parsed without a field to hold it. */
export type CliArgs = {
  readonly command: CliCommand
  readonly name?: string
  readonly files: readonly string[]
  readonly helpFor?: Exclude<CommandName, 'help'>
} & { readonly [F in CliFlag as Flags[F] extends { key: infer K extends string } ? K : never]: ValueOf<Flags[F]> }

export interface CommandContext {
  readonly args: CliArgs
  readonly io: CliIo
  readonly out: CliOutput
  readonly folder: string
  readonly target: DatabaseTarget | null
  /** SIGINT/SIGTERM, for commands that open a database (see `withInterrupts`). */
  readonly interrupts?: Interrupts | undefined
}

/** `fields` are complete even on failure, so a `--json` document's shape does not depend on the outcome. */
export interface CommandResult {
  readonly exitCode: ExitCode
  readonly fields: Readonly<Record<string, unknown>>
  readonly error?: unknown
  /** verify draws every error itself. */
  readonly errorShown?: boolean
  /** Printed after the error block, so a failed run's summary is the last line a person sees. */
  readonly trailer?: string
}

/** Closes the runner whatever happens: an open pool or embedded database would keep the process alive. */
export async function withRunner<T>(
  ctx: CommandContext,
  options: { readonly onApply?: (event: ApplyEvent) => void },
  body: (runner: MigrationRunner) => Promise<T>,
): Promise<T> {
  const runner = new MigrationRunner({
    url: ctx.args.url,
    embedded: ctx.args.embedded || undefined,
    env: ctx.io.env,
    migrationFolder: ctx.folder,
    ledgerSchema: ctx.args.ledgerSchema ?? (ctx.io.env['WUKONG_LEDGER_SCHEMA'] || undefined),
    allowDrift: ctx.args.allowDrift,
    timeouts: {
      lockMs: ctx.args.lockTimeoutMs,
      lockWaitMs: ctx.args.lockWaitTimeoutMs,
      connectMs: ctx.args.connectTimeoutMs,
      statementMs: ctx.args.statementTimeoutMs,
      embeddedBusyMs: ctx.args.busyTimeoutMs,
    },
    // Notices go to stderr so stdout stays the report; the embedded database is announced even with --json.
    log: (line) => ctx.out.error(line),
    announce: ctx.target?.source === 'embedded',
    onApply: options.onApply,
    signal: ctx.interrupts?.signal,
  })
  ctx.interrupts?.runners.add(runner)
  try {
    return await body(runner)
  } finally {
    ctx.interrupts?.runners.delete(runner)
    await runner.close().catch(() => {})
  }
}

export function describeTarget(target: DatabaseTarget | null): string {
  if (!target) return ''
  return target.source === 'embedded' ? `embedded PGlite in ${target.dataDir}` : `${target.url} (from ${target.source})`
}

/** The first lines of the status, plan and diff reports. */
export function printHeader(ctx: CommandContext): void {
  const c = ctx.out.out
  ctx.out.line(`${c.bold('Database:')} ${describeTarget(ctx.target)}`)
  ctx.out.line(`${c.bold('Folder:')}   ${displayPath(ctx.folder, ctx.io.cwd)}`)
}
