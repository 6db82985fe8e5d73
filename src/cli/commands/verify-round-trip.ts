import type { RoundTripFile, RoundTripReport } from '../../schema-diff/index.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { type CliErrorJson, describeError } from '../describe-error.js'
import { differenceLines } from '../diff-printer.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, plural } from '../format.js'

export async function verifyRoundTripCommand(ctx: CommandContext): Promise<CommandResult> {
  let report: RoundTripReport
  const { shadowUrl, requireDown } = ctx.args
  try {
    report = await withRunner(ctx, {}, (runner) => runner.verifyRoundTrip({ shadowUrl, requireDown }))
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: { roundtrip: { ok: false, files: [] } }, error }
  }
  const files = report.files.map((f) => ({
    ...f,
    error: f.error === null ? null : describeError(f.error, { folder: ctx.folder, target: ctx.target }),
  }))
  if (!ctx.out.json) print(ctx, report.ok, files)
  return { exitCode: report.ok ? EXIT.OK : EXIT.FAILED, fields: { roundtrip: { ok: report.ok, files } } }
}

const NOTES: Readonly<Record<RoundTripFile['outcome'], string>> = {
  proven: 'its down file restores the schema it found; up again rebuilds the same',
  'no-down': 'no down file: not checked',
  'down-differs': 'its down file does not restore the schema it found:',
  'up-differs': 'after its down file, up again builds a different schema:',
  failed: 'failed:',
}

type ShownFile = Omit<RoundTripFile, 'error'> & { readonly error: CliErrorJson | null }

function print(ctx: CommandContext, ok: boolean, files: readonly ShownFile[]): void {
  const { out } = ctx
  const c = out.out
  out.line(`${c.bold('Folder:')}  ${displayPath(ctx.folder, ctx.io.cwd)}`)
  const scratch = ctx.args.shadowUrl
    ? 'the --shadow-url database (emptied afterwards)'
    : `a database created next to ${describeTarget(ctx.target)} (dropped afterwards)`
  out.line(`${c.bold('Scratch:')} ${scratch}`)
  out.line()
  const width = Math.max(0, ...files.map((f) => f.fileName.length))
  for (const f of files) {
    const noDown = ctx.args.requireDown ? c.red('NO DOWN ') : c.yellow('no down ')
    const label = f.outcome === 'proven' ? c.green('proven  ') : f.outcome === 'no-down' ? noDown : c.red('FAILED  ')
    const why = f.outcome === 'failed' ? ` ${f.error?.message ?? ''}` : ''
    out.line(`  ${label} ${f.fileName.padEnd(width)}  ${c.dim(NOTES[f.outcome])}${why}`)
    const differences =
      f.outcome === 'down-differs' ? f.downDifferences : f.outcome === 'up-differs' ? f.upDifferences : []
    for (const line of differenceLines(differences, c, '      ')) out.line(line)
  }
  const count = (o: RoundTripFile['outcome']) => files.filter((f) => f.outcome === o).length
  const failed = files.length - count('proven') - count('no-down')
  const tally =
    `${plural(count('proven'), 'file')} proven, ${count('no-down')} without a down file` +
    (failed ? `, ${failed} failed` : '')
  out.line()
  out.line(ok ? c.green(`Round trip passed: ${tally}.`) : c.red(`Round trip failed: ${tally}.`))
}
