import type { CommandContext, CommandResult } from '../command-context.js'
import { describeError } from '../describe-error.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, plural } from '../format.js'
import { renderError } from '../render-error.js'
import { lintWarnings, printWarnings, verifyMigrationFolder } from '../verify-folder.js'
import { verifyRoundTripCommand } from './verify-round-trip.js'

export async function verifyCommand(ctx: CommandContext): Promise<CommandResult> {
  const { out, folder } = ctx
  const c = out.out
  const report = await verifyMigrationFolder(folder)
  // The round trip needs a folder migrate would accept; report the folder's problems instead.
  if (ctx.args.roundtrip && report.errors.length === 0) return verifyRoundTripCommand(ctx)
  const errors = report.errors.map((e) => describeError(e, { folder, target: null }))
  const paths = report.files.flatMap((f) => [f.path, ...(f.down ? [f.down.path] : [])])
  const warnings = [...report.warnings, ...(await lintWarnings(paths))]
  const fields = {
    files: report.files.map((f) => ({
      version: f.version,
      name: f.name,
      fileName: f.fileName,
      statements: f.sql.statements.length,
      atomic: f.sql.transactional,
      down: f.down?.fileName ?? null,
    })),
    errors,
    warnings,
  }
  if (!out.json) {
    out.line(`${c.bold('Folder:')} ${displayPath(folder, ctx.io.cwd)}`)
    const width = Math.max(0, ...report.files.map((f) => f.fileName.length))
    for (const f of report.files) {
      const notes = [
        plural(f.sql.statements.length, 'statement'),
        f.sql.transactional ? '' : 'not atomic (-- wukong:no-transaction)',
        f.down ? `down: ${f.down.fileName}` : '',
      ].filter(Boolean)
      out.line(`  ${c.green('ok')}  ${f.fileName.padEnd(width)}  ${c.dim(notes.join(', '))}`)
    }
    printWarnings(out, warnings)
    for (const e of errors) {
      for (const line of renderError(e, out.err, { folder, cwd: ctx.io.cwd })) out.error(line)
      out.error()
    }
    const tally = plural(warnings.length, 'warning')
    if (errors.length)
      out.line(c.red(`verify failed: ${plural(errors.length, 'error')}, ${tally}; migrate would refuse this folder.`))
    else out.line(c.green(`verify passed: ${plural(report.files.length, 'file')}, ${tally}.`))
  }
  // The errors are already in `fields.errors` (all of them); the envelope's `error` is the first.
  return {
    exitCode: errors.length ? EXIT.FAILED : EXIT.OK,
    fields,
    error: errors.length ? report.errors[0] : undefined,
    errorShown: true,
  }
}
