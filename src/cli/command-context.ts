import type { ApplyEvent } from '../provider/index.js'
import { MigrationRunner } from '../runner/migration-runner.js'
import type { CliOutput, CliIo } from './cli-output.js'
import type { DatabaseTarget } from './database-target.js'
import type { ExitCode } from './exit-codes.js'
import type { Interrupts } from './interrupts.js'
import type { CliFlag, FLAGS } from './flag-table.js'

/** The commands of `wukong-migrate` (`up` is read as `migrate`; `--version` is `version`). */
export type CliCommand =
  | 'migrate'
  | 'status'
  | 'down'
  | 'create'
  | 'plan'
  | 'verify'
  | 'diff'
  | 'lint'
  | 'help'
  | 'version'

type Flags = typeof FLAGS
type ValueOf<F> = F extends { multiple: true }
  ? readonly string[]
  : F extends { value: 'ms' | 'version' }
    ? number | undefined
    : F extends { value: string }
      ? string | undefined
      : boolean

/** A parsed command line: a field for each flag of `FLAGS`, named by its `key`. */
export type CliArgs = {
  readonly command: CliCommand
  /** The name given to `create`. */
  readonly name?: string
  /** The files given to `lint`. */
  readonly files: readonly string[]
  /** The command `--help` (or `help <command>`) asks about; undefined for the general usage. */
  readonly helpFor?: Exclude<CliCommand, 'help' | 'version'>
} & { readonly [F in CliFlag as Flags[F] extends { key: infer K extends string } ? K : never]: ValueOf<Flags[F]> }

/** What every command gets. */
export interface CommandContext {
  readonly args: CliArgs
  readonly io: CliIo
  readonly out: CliOutput
  /** The migration folder, absolute. */
  readonly folder: string
  /** The database, for commands that use one. */
  readonly target: DatabaseTarget | null
  /** SIGINT/SIGTERM, for commands that open a database (see `withInterrupts`). */
  readonly interrupts?: Interrupts | undefined
}

/**
 * What a command hands back: its exit code, its `--json` fields (complete even on failure,
 * so the document's shape does not depend on the outcome) and the error to report, if any.
 */
export interface CommandResult {
  readonly exitCode: ExitCode
  readonly fields: Readonly<Record<string, unknown>>
  readonly error?: unknown
  /** True when the command already drew the error for people (verify draws every one). */
  readonly errorShown?: boolean
  /** A last line for people, printed after the error block (e.g. a failed run's summary). */
  readonly trailer?: string
}

/**
 * Runs `body` with a {@link MigrationRunner} configured from the command line, and closes
 * it (the pool, or the embedded database's files) whatever happens.
 */
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
    lockTimeoutMs: ctx.args.lockTimeoutMs,
    lockWaitTimeoutMs: ctx.args.lockWaitTimeoutMs,
    connectTimeoutMs: ctx.args.connectTimeoutMs,
    statementTimeoutMs: ctx.args.statementTimeoutMs,
    busyTimeoutMs: ctx.args.busyTimeoutMs,
    // The runner's notices (e.g. that the embedded database is used) go to stderr, redacted,
    // so stdout stays the report (or the JSON document). A server is named in the report's
    // header already; the embedded database is announced on stderr, even with --json.
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

/** The header naming the database, for human reports. */
export function describeTarget(target: DatabaseTarget | null): string {
  if (!target) return ''
  return target.source === 'embedded' ? `embedded PGlite in ${target.dataDir}` : `${target.url} (from ${target.source})`
}
