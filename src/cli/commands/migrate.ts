import type { ApplyEvent } from '../../provider/apply-migration.js'
import { MigrationRunError, type MigrateResult } from '../../runner/migration-run-error.js'
import type { MigrationRunner } from '../../runner/runner.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { formatDuration, displayPath } from '../format.js'
import { countsLine, RunPrinter, statusCounts, versionPhrase } from '../run-printer.js'

export function migrateCommand(ctx: CommandContext): Promise<CommandResult> {
  return runCommand(ctx, 'migrate', (runner) => runner.migrate())
}

/** `migrate` and `down` report alike. */
export async function runCommand(
  ctx: CommandContext,
  verb: 'migrate' | 'down',
  go: (runner: MigrationRunner) => Promise<MigrateResult | string>,
): Promise<CommandResult> {
  const { out } = ctx
  const started = performance.now()
  const fields = (result?: Pick<MigrateResult, 'results' | 'currentVersion'>, results = result?.results ?? []) => ({
    results: results.map(({ version, name, fileName, status, durationMs, atomic }) => {
      return { version, name, fileName, status, durationMs: tenths(durationMs), atomic }
    }),
    summary: statusCounts(results),
    currentVersion: result?.currentVersion ?? null,
    durationMs: Math.round(performance.now() - started),
  })
  let printer: RunPrinter | undefined
  // Said with the first file, or with the outcome: the bin may relaunch itself before it parses (cli/main.ts).
  let header: string | undefined = out.out.dim(
    `${verb === 'migrate' ? 'Migrating' : 'Reverting'} ${describeTarget(ctx.target)} with ${displayPath(ctx.folder, ctx.io.cwd)}`,
  )
  const sayHeader = () => {
    if (header !== undefined) out.line(header)
    header = undefined
  }
  const onApply = (event: ApplyEvent) => {
    sayHeader()
    printer?.event(event)
  }
  return withRunner(ctx, { onApply }, async (runner): Promise<CommandResult> => {
    try {
      // Files are read and their names checked before any connection; the runner parses what it
      // runs (an up-to-date database needs no parsing at all).
      const files = runner.provider.scanFiles()
      printer = new RunPrinter(
        out,
        files.flatMap((f) => [f.fileName, f.down?.fileName ?? '']),
      )
      const outcome = await go(runner).finally(sayHeader)
      if (typeof outcome === 'string') {
        // The command decided there was nothing to do (e.g. down on an empty database).
        out.line(outcome)
        return { exitCode: EXIT.OK, fields: fields() }
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
      if (!(error instanceof MigrationRunError)) return { exitCode: EXIT.FAILED, fields: fields(), error }
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

// Finer than a tenth of a millisecond is noise.
function tenths(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 10) / 10
}
