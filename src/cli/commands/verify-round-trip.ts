import type { RoundTripFile, RoundTripReport } from '../../schema-diff/index.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { describeError } from '../describe-error.js'
import { differenceLines } from '../diff-printer.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, plural } from '../format.js'

/**
 * `verify --roundtrip [--require-down] [--shadow-url <url>]`: proves the down files on a
 * scratch database (see `MigrationRunner.verifyRoundTrip`), showing the schema difference
 * when a down file does not restore what its up file found. Exits 1 when one fails (or, with
 * `--require-down`, when a file has no down file); files without one are listed otherwise.
 */
export async function verifyRoundTripCommand(ctx: CommandContext): Promise<CommandResult> {
  let report: RoundTripReport
  const shadowUrl = ctx.args.shadowUrl
  try {
    report = await withRunner(ctx, {}, (runner) =>
      runner.verifyRoundTrip({ shadowUrl, requireDown: ctx.args.requireDown }),
    )
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: { roundtrip: { ok: false, files: [] } }, error }
  }
  const files = report.files.map((f) => ({
    version: f.version,
    fileName: f.fileName,
    downFileName: f.downFileName,
    outcome: f.outcome,
    downDifferences: f.downDifferences,
    upDifferences: f.upDifferences,
    error: f.error === null ? null : describeError(f.error, { folder: ctx.folder, target: ctx.target }),
  }))
  if (!ctx.out.json)
    print(
      ctx,
      report,
      files.map((f) => f.error),
    )
  return { exitCode: report.ok ? EXIT.OK : EXIT.FAILED, fields: { roundtrip: { ok: report.ok, files } } }
}

const NOTES: Readonly<Record<RoundTripFile['outcome'], string>> = {
  proven: 'its down file restores the schema it found; up again rebuilds the same',
  'no-down': 'no down file: not checked',
  'down-differs': 'its down file does not restore the schema it found:',
  'up-differs': 'after its down file, up again builds a different schema:',
  failed: 'failed:',
}

function print(ctx: CommandContext, report: RoundTripReport, errors: readonly ({ message: string } | null)[]): void {
  const { out } = ctx
  const c = out.out
  out.line(`${c.bold('Folder:')}  ${displayPath(ctx.folder, ctx.io.cwd)}`)
  const scratch = ctx.args.shadowUrl
    ? 'the --shadow-url database (emptied afterwards)'
    : `a database created next to ${describeTarget(ctx.target)} (dropped afterwards)`
  out.line(`${c.bold('Scratch:')} ${scratch}`)
  out.line()
  const width = Math.max(0, ...report.files.map((f) => f.fileName.length))
  report.files.forEach((f, i) => {
    const noDown = ctx.args.requireDown ? c.red('NO DOWN ') : c.yellow('no down ')
    const label = f.outcome === 'proven' ? c.green('proven  ') : f.outcome === 'no-down' ? noDown : c.red('FAILED  ')
    const why = f.outcome === 'failed' ? ` ${errors[i]?.message ?? ''}` : ''
    out.line(`  ${label} ${f.fileName.padEnd(width)}  ${c.dim(NOTES[f.outcome])}${why}`)
    const differences =
      f.outcome === 'down-differs' ? f.downDifferences : f.outcome === 'up-differs' ? f.upDifferences : []
    for (const line of differenceLines(differences, c, '      ')) out.line(line)
  })
  const count = (o: RoundTripFile['outcome']) => report.files.filter((f) => f.outcome === o).length
  const failed = report.files.length - count('proven') - count('no-down')
  const tally =
    `${plural(count('proven'), 'file')} proven, ${count('no-down')} without a down file` +
    (failed ? `, ${failed} failed` : '')
  out.line()
  out.line(report.ok ? c.green(`Round trip passed: ${tally}.`) : c.red(`Round trip failed: ${tally}.`))
}
