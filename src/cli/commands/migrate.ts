import { MigrationRunError, type MigrateResult, type MigrationRunner } from '../../runner/migration-runner.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { formatDuration, displayPath } from '../format.js'
import { runResultsJson } from '../json-shapes.js'
import { countsLine, RunPrinter, versionPhrase } from '../run-printer.js'

/**
 * `migrate` (alias `up`): applies every pending file, one line per file as it commits, then a
 * summary. A failure prints the files it did not reach and exits 1.
 */
export function migrateCommand(ctx: CommandContext): Promise<CommandResult> {
  return runCommand(ctx, 'migrate', (runner) => runner.migrate())
}

/** Shared by `migrate` and `down`: the per-file lines, the summary, and the JSON fields. */
export async function runCommand(
  ctx: CommandContext,
  verb: 'migrate' | 'down',
  go: (runner: MigrationRunner) => Promise<MigrateResult | string>,
): Promise<CommandResult> {
  const { out } = ctx
  const started = performance.now()
  const fields = (result: MigrateResult | undefined, results = result?.results ?? []) => ({
    ...runResultsJson(results),
    currentVersion: result?.currentVersion ?? null,
    durationMs: Math.round(performance.now() - started),
  })
  let printer: RunPrinter | undefined
  return withRunner(ctx, { onApply: (event) => printer?.event(event) }, async (runner): Promise<CommandResult> => {
    try {
      // Files are read and their names checked before any connection; the runner parses what it
      // runs (an up-to-date database needs no parsing at all).
      const files = runner.provider.scanFiles()
      printer = new RunPrinter(
        out,
        files.flatMap((f) => [f.fileName, f.down?.fileName ?? '']),
      )
      out.line(
        out.out.dim(
          `${verb === 'migrate' ? 'Migrating' : 'Reverting'} ${describeTarget(ctx.target)} with ${displayPath(ctx.folder, ctx.io.cwd)}`,
        ),
      )
      const outcome = await go(runner)
      if (typeof outcome === 'string') {
        // The command decided there was nothing to do (e.g. down on an empty database).
        out.line(outcome)
        return { exitCode: EXIT.OK, fields: fields(undefined) }
      }
      const took = formatDuration(performance.now() - started)
      if (outcome.results.length === 0)
        out.line(out.out.green(`Already up to date; ${versionPhrase(outcome.currentVersion)}.`))
      else
        out.line(
          out.out.green(`Done: ${countsLine(outcome.results)} in ${took}; ${versionPhrase(outcome.currentVersion)}.`),
        )
      return { exitCode: EXIT.OK, fields: fields(outcome) }
    } catch (error) {
      if (!(error instanceof MigrationRunError)) return { exitCode: EXIT.FAILED, fields: fields(undefined), error }
      printer?.results(error.results)
      // Say where the database stands now, if it still answers; the failure is what matters.
      const now = await runner.status().then(
        (s) => s.currentVersion,
        () => undefined,
      )
      const after = now === undefined ? '' : `; ${versionPhrase(now)}`
      const result = { results: error.results, currentVersion: now ?? null }
      return {
        exitCode: EXIT.FAILED,
        fields: fields(result),
        error,
        // After the error block, so it is the last line a person sees.
        trailer: out.out.red(
          `${verb === 'migrate' ? 'Migration' : 'Revert'} failed: ${countsLine(error.results) || 'no file ran'} in ${formatDuration(performance.now() - started)}${after}.`,
        ),
      }
    }
  })
}
