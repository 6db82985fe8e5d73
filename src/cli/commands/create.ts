import { sep } from 'node:path'

import type { CommandContext, CommandResult } from '../command-context.js'
import { CliError } from '../cli-error.js'
import { EXIT } from '../exit-codes.js'
import { displayPath } from '../format.js'
import { createMigrationFile } from '../new-migration-file.js'

export async function createCommand(ctx: CommandContext): Promise<CommandResult> {
  try {
    // A file inside node_modules would be lost on the next install and never reach version control.
    if (!ctx.args.dir && !ctx.io.env['WUKONG_MIGRATIONS_DIR'] && ctx.folder.includes(`${sep}node_modules${sep}`)) {
      throw new CliError('NO_FOLDER', `the default migration folder ${ctx.folder} is inside node_modules`, {
        advice: 'pass --dir <your migrations folder>',
      })
    }
    const file = await createMigrationFile(ctx.folder, ctx.args.name!)
    const shown = displayPath(file.path, ctx.io.cwd)
    ctx.out.line(`${ctx.out.out.green('Created')} ${shown}`)
    ctx.out.line(
      ctx.out.out.dim(
        `Write its SQL, then: wukong-migrate verify${ctx.args.dir ? ` --dir ${displayPath(ctx.folder, ctx.io.cwd)}` : ''} (offline) and plan (what would run).`,
      ),
    )
    return { exitCode: EXIT.OK, fields: { file } }
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: { file: null }, error }
  }
}
