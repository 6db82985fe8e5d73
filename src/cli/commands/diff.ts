import type { SchemaDiff } from '../../schema-diff/index.js'
import { printHeader, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { differenceLines, differenceTally } from '../diff-printer.js'
import { EXIT } from '../exit-codes.js'
import { plural } from '../format.js'
import { versionPhrase } from '../run-printer.js'

export async function diffCommand(ctx: CommandContext): Promise<CommandResult> {
  let result: SchemaDiff
  try {
    result = await withRunner(ctx, {}, (runner) => runner.diff({ shadowUrl: ctx.args.shadowUrl }))
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: NO_DIFF, error }
  }
  if (!ctx.out.json) print(ctx, result)
  return { exitCode: result.inSync ? EXIT.OK : EXIT.NOT_UP_TO_DATE, fields: { ...result } }
}

// On failure no shadow was built, so `shadow` is left out.
const NO_DIFF = {
  inSync: false,
  currentVersion: null,
  builtFiles: [],
  missingVersions: [],
  editedFiles: [],
  differences: [],
}

const LEGEND = '  + only in the database   - only in what the files build   ~ in both, different (expected → actual)'

function print(ctx: CommandContext, result: SchemaDiff): void {
  const { out } = ctx
  const c = out.out
  printHeader(ctx)
  const where = `shadow database ${result.shadow.name}, ${result.shadow.created ? 'dropped' : 'emptied'}`
  out.line(`${c.bold('Expected:')} what ${plural(result.builtFiles.length, 'applied file')} build (${where})`)
  out.line()
  if (result.missingVersions.length) {
    const versions = result.missingVersions.join(', ')
    out.line(c.yellow(`Applied versions with no file here: ${versions}; what they made shows as added.`))
  }
  if (result.editedFiles.length) {
    out.line(c.yellow(`Applied files edited since: ${result.editedFiles.join(', ')}; their current text was built.`))
  }
  if (result.inSync) {
    const where = versionPhrase(result.currentVersion)
    out.line(c.green(`In sync: the database has exactly what its applied files build (${where}).`))
    return
  }
  for (const line of differenceLines(result.differences, c)) out.line(line)
  out.line()
  out.line(c.yellow(`Not in sync: ${differenceTally(result.differences)}; ${versionPhrase(result.currentVersion)}.`))
  out.line(c.dim(LEGEND))
}
