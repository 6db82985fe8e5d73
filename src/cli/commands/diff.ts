import type { SchemaDiff } from '../../schema-diff/index.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { differenceLines, differenceTally } from '../diff-printer.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, plural } from '../format.js'
import { versionPhrase } from '../run-printer.js'

/**
 * `diff [--shadow-url <url>]`: compares the database's schema with what its applied files
 * build (in a shadow database that is always dropped) and prints every difference, grouped by
 * object. Exits 0 in sync, 3 when they differ, 1 when the comparison failed. Reads the
 * database only, in a read-only transaction.
 */
export async function diffCommand(ctx: CommandContext): Promise<CommandResult> {
  let result: SchemaDiff
  try {
    const shadowUrl = ctx.args.shadowUrl
    result = await withRunner(ctx, {}, (runner) => runner.diff({ shadowUrl }))
  } catch (error) {
    const fields = {
      inSync: false,
      currentVersion: null,
      builtFiles: [],
      missingVersions: [],
      editedFiles: [],
      differences: [],
    }
    return { exitCode: EXIT.FAILED, fields, error }
  }
  if (!ctx.out.json) print(ctx, result)
  return {
    exitCode: result.inSync ? EXIT.OK : EXIT.NOT_UP_TO_DATE,
    fields: {
      inSync: result.inSync,
      currentVersion: result.currentVersion,
      builtFiles: result.builtFiles,
      missingVersions: result.missingVersions,
      editedFiles: result.editedFiles,
      differences: result.differences,
      shadow: result.shadow,
    },
  }
}

const LEGEND = '  + only in the database   - only in what the files build   ~ in both, different (expected → actual)'

function print(ctx: CommandContext, result: SchemaDiff): void {
  const { out } = ctx
  const c = out.out
  out.line(`${c.bold('Database:')} ${describeTarget(ctx.target)}`)
  out.line(`${c.bold('Folder:')}   ${displayPath(ctx.folder, ctx.io.cwd)}`)
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
