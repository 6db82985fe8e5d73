import type { CommandContext, CommandResult } from '../command-context.js'
import { CliError } from '../cli-error.js'
import { runCommand } from './migrate.js'
import { versionPhrase } from '../run-printer.js'

export function downCommand(ctx: CommandContext): Promise<CommandResult> {
  const to = ctx.args.to
  return runCommand(ctx, 'down', async (runner) => {
    const { currentVersion, applied } = await runner.status()
    const current = currentVersion ?? 0
    if (to !== undefined && to > current) {
      throw new CliError(
        'TARGET_ABOVE_CURRENT',
        `down --to ${to}: ${versionPhrase(currentVersion)}, so this would apply migrations, not revert them`,
        { advice: 'use wukong-migrate migrate to go up' },
      )
    }
    // Say so rather than open bookkeeping; 0 means before every file, a 000_ file included.
    if (applied.length === 0 || (to !== undefined && to !== 0 && !applied.some((a) => a.version > to)))
      return `Nothing to revert; ${versionPhrase(currentVersion)}.`
    return runner.down(to === undefined ? {} : { to })
  })
}
