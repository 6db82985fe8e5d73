import type { CommandContext, CommandResult } from '../command-context.js'
import { CliError } from '../describe-error.js'
import { runCommand } from './migrate.js'
import { versionPhrase } from '../run-printer.js'

/**
 * `down [--to N]`: reverts the last applied file, or every file above version N (0: all, a
 * `000_` file included),
 * each with its `.down.sql`. Refuses a target above the current version (that is `migrate`'s
 * job) and does nothing, successfully, when there is nothing to revert.
 */
export function downCommand(ctx: CommandContext): Promise<CommandResult> {
  const to = ctx.args.to
  return runCommand(ctx, 'down', async (runner) => {
    const { currentVersion, applied } = await runner.status()
    const current = currentVersion ?? 0
    if (to !== undefined && to > current) {
      throw new CliError(
        'TARGET_ABOVE_CURRENT',
        `down --to ${to}: ${versionPhrase(currentVersion)}, so this would apply migrations, not revert them`,
        {
          advice: `use wukong-migrate migrate to go up`,
        },
      )
    }
    // Nothing above the target (or nothing at all): say so rather than open bookkeeping.
    // 0 means before every file, a 000_ file included.
    if (applied.length === 0 || (to !== undefined && to !== 0 && !applied.some((a) => a.version > to)))
      return `Nothing to revert; ${versionPhrase(currentVersion)}.`
    return runner.down(to === undefined ? {} : { to })
  })
}
