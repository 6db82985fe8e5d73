import { resolve } from 'node:path'

import { embeddedBusyTimeoutMs } from '../connect/embedded-settings.js'
import { DEFAULT_MIGRATION_FOLDER, packageVersion } from '../provider/package-migration-folder.js'
import { CliOutput, type CliIo } from './cli-output.js'
import type { CliArgs, CommandContext, CommandResult } from './command-context.js'
import { commandNamed, opensDatabase } from './command-table.js'
import { databaseTarget, knownSecrets } from './database-target.js'
import { UsageError } from './cli-error.js'
import { EXIT, type ExitCode } from './exit-codes.js'
import { withInterrupts, type Interrupts } from './interrupts.js'
import { loadEnvFiles } from './load-env-files.js'
import { parseCliArgs } from './parse-args.js'
import { commandUsage, USAGE } from './usage.js'

/** Takes its process as `io`, so tests run the real command line in-process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // Known before parsing, so even a usage error quoting a URL argument is redacted.
  let secrets = knownSecrets(argv, io.env)
  let args: CliArgs
  try {
    args = parseCliArgs(argv)
    if (args.command !== 'help' && args.command !== 'version') {
      io = { ...io, env: loadEnvFiles(io.env, io.cwd, args.envFiles) }
      secrets = knownSecrets(argv, io.env)
    }
  } catch (error) {
    const out = new CliOutput(io, { json: argv.includes('--json'), secrets })
    const command = argv.find((a) => !a.startsWith('-')) ?? 'help'
    return finish(out, io, { command, folder: null, database: null }, { exitCode: EXIT.USAGE, fields: {}, error })
  }
  const out = new CliOutput(io, { json: args.json, secrets })
  if (args.command === 'version' || args.command === 'help') {
    const { name, version } = packageVersion()
    const text = args.command === 'version' ? `${version}\n` : args.helpFor ? commandUsage(args.helpFor) : USAGE
    if (!args.json) out.write('stdout', text)
    const fields = args.command === 'version' ? { name, packageVersion: version } : { usage: text }
    return finish(out, io, { command: args.command, folder: null, database: null }, { exitCode: EXIT.OK, fields })
  }

  // WUKONG_MIGRATIONS_DIR as in kysely.config.ts, so the CLI and kysely-ctl agree on the folder.
  const folder = resolve(io.cwd, args.dir ?? (io.env['WUKONG_MIGRATIONS_DIR'] || DEFAULT_MIGRATION_FOLDER))
  const command = commandNamed(args.command)!
  let target: CommandContext['target'] = null
  try {
    target = opensDatabase(command, args) ? databaseTarget(args.url, io.env, args.embedded) : null
    if (target?.source === 'embedded') embeddedBusyTimeoutMs(args.busyTimeoutMs, io.env)
  } catch (error) {
    // A setting that cannot be used as written, found before anything is opened.
    const usage = error instanceof RangeError ? new UsageError(error.message) : error
    const exitCode = usage instanceof UsageError ? EXIT.USAGE : EXIT.FAILED
    return finish(out, io, { command: args.command, folder, database: target }, { exitCode, fields: {}, error: usage })
  }
  const envelope = { command: args.command, folder, database: target }
  const runCommand = async (interrupts?: Interrupts): Promise<ExitCode> => {
    const ctx: CommandContext = { args, io, out, folder, target, interrupts }
    let result: CommandResult
    try {
      result = await command.run!(ctx)
    } catch (error) {
      result = { exitCode: EXIT.FAILED, fields: {}, error }
    }
    if (result.error instanceof UsageError) result = { ...result, exitCode: EXIT.USAGE }
    if (interrupts?.exitCode !== undefined) result = { ...result, exitCode: interrupts.exitCode }
    return finish(out, io, envelope, result)
  }
  return target ? withInterrupts(out, runCommand) : runCommand()
}

// The error's description and drawing load only when there is an error.
async function finish(
  out: CliOutput,
  io: CliIo,
  envelope: { readonly command: string; readonly folder: string | null; readonly database: CommandContext['target'] },
  result: CommandResult,
): Promise<ExitCode> {
  const error =
    result.error === undefined
      ? null
      : (await import('./describe-error.js')).describeError(result.error, {
          folder: envelope.folder,
          target: envelope.database,
        })
  if (out.json) {
    out.document({
      version: 1,
      command: envelope.command,
      ok: result.exitCode === EXIT.OK || result.exitCode === EXIT.NOT_UP_TO_DATE,
      exitCode: result.exitCode,
      database: envelope.database,
      folder: envelope.folder,
      ...result.fields,
      error,
    })
    return result.exitCode
  }
  if (error && !result.errorShown) {
    const { renderError } = await import('./render-error.js')
    for (const line of renderError(error, out.err, { folder: envelope.folder, cwd: io.cwd })) out.error(line)
    if (error.code === 'USAGE' && envelope.command === 'help') out.write('stderr', `\n${USAGE}`)
  }
  if (result.trailer) out.line(result.trailer)
  return result.exitCode
}
