import { join, resolve } from 'node:path'

import { createDatabase } from '../../connect/index.js'
import { lintFails, lintMigrationFiles, renderLintReport } from '../../lint/index.js'
import { scanMigrationFolder } from '../../provider/index.js'
import { withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { displayPath } from '../format.js'

export async function lintCommand(ctx: CommandContext): Promise<CommandResult> {
  const empty = { files: [], statements: 0, findings: [], summary: { errors: 0, warnings: 0, allowed: 0 } }
  try {
    const db = ctx.args.url ? await createDatabase({ url: ctx.args.url, driver: 'pg', max: 1 }) : undefined
    try {
      const named = ctx.args.files.map((f) => resolve(ctx.io.cwd, f))
      const pending = async () => (await withRunner(ctx, {}, (r) => r.status())).pending.map((p) => p.fileName)
      const files = named.length
        ? named
        : db
          ? (await pending()).map((f) => join(ctx.folder, f))
          : scanMigrationFolder(ctx.folder).flatMap((h) => [h.path, ...(h.down ? [h.down.path] : [])])
      const linted = await lintMigrationFiles(files, { db })
      // Files are shown as the other commands show them: relative to the working directory.
      const shown = (file: string): string => displayPath(file, ctx.io.cwd)
      const report = {
        ...linted,
        files: linted.files.map(shown),
        findings: linted.findings.map((f) => ({ ...f, file: shown(f.file) })),
      }
      if (!ctx.out.json) ctx.out.line(renderLintReport(report, { style: ctx.out.out }))
      const fails = lintFails(report, ctx.args.failOn === 'warning' ? 'warning' : 'error')
      return { exitCode: fails ? EXIT.NOT_UP_TO_DATE : EXIT.OK, fields: { ...report } }
    } finally {
      await db?.destroy()
    }
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: empty, error }
  }
}
