import type { MigrationFile, MigrationStatus } from '../../provider/index.js'
import { printHeader, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { plural } from '../format.js'
import { versionPhrase } from '../run-printer.js'
import { lintWarnings, printWarnings } from '../verify-folder.js'

export async function planCommand(ctx: CommandContext): Promise<CommandResult> {
  let files: readonly MigrationFile[]
  let status: MigrationStatus
  try {
    ;[files, status] = await withRunner(ctx, {}, async (r) => [await r.verify(), await r.status()] as const)
  } catch (error) {
    const fields = { currentVersion: null, pending: [], bookkeeping: [], drifted: [], missing: [], warnings: [] }
    return { exitCode: EXIT.FAILED, fields, error }
  }
  const plan = planFields(files, status)
  // As verify warns: what would block a live app, in the files migrate would run.
  const warnings = await lintWarnings(
    files.filter((f) => plan.pending.some((p) => p.version === f.version)).map((f) => f.path),
  )
  const fields = { ...plan, warnings }
  // The planner's own verdict: what migrate would refuse with.
  const refusal = status.refusal
  if (!ctx.out.json) {
    print(ctx, plan, refusal !== undefined)
    printWarnings(ctx.out, warnings)
  }
  return { exitCode: refusal === undefined ? EXIT.OK : EXIT.FAILED, fields, error: refusal }
}

function planFields(files: readonly MigrationFile[], status: MigrationStatus) {
  const pending = status.pending.map((p) => {
    const file = files.find((f) => f.version === p.version)!
    const statements = file.sql.statements.map(({ line, column, kind, text }) => ({ line, column, kind, text }))
    return { version: p.version, name: p.name, fileName: p.fileName, atomic: p.atomic, statements }
  })
  const bookkeeping = status.applied
    .filter((a) => a.checksumMatches === null || !a.recordedByKysely)
    .map((a) => ({
      version: a.version,
      fileName: a.fileName,
      action: a.checksumMatches === null ? ('adopt' as const) : ('heal' as const),
    }))
  const { currentVersion, drifted, missing } = status
  return { currentVersion, pending, bookkeeping, drifted, missing }
}

function print(ctx: CommandContext, plan: ReturnType<typeof planFields>, refused: boolean): void {
  const { out } = ctx
  const c = out.out
  printHeader(ctx)
  out.line()
  if (refused)
    out.line(c.red('migrate would refuse to run (see the error below); were it allowed (--allow-drift), it would:'))
  if (plan.pending.length === 0 && plan.bookkeeping.length === 0) {
    out.line(c.green(`Nothing to do; ${versionPhrase(plan.currentVersion)}.`))
    return
  }
  if (plan.pending.length) {
    const last = plan.pending.at(-1)!.version
    out.line(
      `migrate would apply ${plural(plan.pending.length, 'file')}, from ${plan.currentVersion === null ? 'nothing applied' : `version ${plan.currentVersion}`} to version ${last}:`,
    )
  }
  for (const file of plan.pending) {
    out.line()
    out.line(
      `${c.bold(file.fileName)}  ${c.dim(`${plural(file.statements.length, 'statement')}, ${file.atomic ? 'one transaction' : 'not atomic: each statement on its own (-- wukong:no-transaction)'}`)}`,
    )
    const lastLine = Math.max(...file.statements.map((s) => s.line + s.text.split('\n').length - 1))
    const gutter = String(lastLine).length
    for (const statement of file.statements) {
      statement.text.split('\n').forEach((text, i) => {
        const number = String(statement.line + i).padStart(gutter)
        out.line(`  ${c.cyan(`${number} |`)} ${i === 0 ? ' '.repeat(statement.column - 1) : ''}${text}`)
      })
    }
  }
  if (plan.bookkeeping.length) {
    out.line()
    out.line(
      `and complete the bookkeeping of ${plural(plan.bookkeeping.length, 'applied file')}, running none of their SQL:`,
    )
    const why = { adopt: '  (applied by the old runner)', heal: '  (missing from kysely_migration)' }
    for (const b of plan.bookkeeping) out.line(`  ${b.action.padEnd(5)}  ${b.fileName}${c.dim(why[b.action])}`)
  }
}
