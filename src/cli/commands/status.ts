import { join } from 'node:path'

import type { AppliedMigration, MigrationStatus } from '../../provider/index.js'
import { describeTarget, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, formatDuration, plural } from '../format.js'
import { appliedJson } from '../json-shapes.js'
import { versionPhrase } from '../run-printer.js'

/**
 * `status [--check]`: every file with where it stands (applied, adopted, drifted, pending,
 * missing), then a summary and the command that fixes each kind of problem. With `--check`
 * it exits 3 unless the database is up to date, for deploy pipelines.
 */
export async function statusCommand(ctx: CommandContext): Promise<CommandResult> {
  let status: MigrationStatus
  try {
    status = await withRunner(ctx, {}, (runner) => runner.status())
  } catch (error) {
    return {
      exitCode: EXIT.FAILED,
      fields: {
        currentVersion: null,
        isUpToDate: false,
        applied: [],
        pending: [],
        drifted: [],
        missing: [],
        renamed: [],
        outOfOrder: [],
        ledgerSchema: null,
        otherSets: [],
        adopted: [],
      },
      error,
    }
  }
  if (!ctx.out.json) print(ctx, status)
  return {
    exitCode: ctx.args.check && !status.isUpToDate ? EXIT.NOT_UP_TO_DATE : EXIT.OK,
    fields: {
      currentVersion: status.currentVersion,
      isUpToDate: status.isUpToDate,
      applied: status.applied.map(appliedJson),
      pending: status.pending,
      drifted: status.drifted,
      missing: status.missing,
      renamed: status.renamed,
      outOfOrder: status.outOfOrder,
      ledgerSchema: status.ledgerSchema,
      otherSets: status.otherSets,
      adopted: status.adopted.map(appliedJson),
    },
  }
}

function print(ctx: CommandContext, status: MigrationStatus): void {
  const { out } = ctx
  const c = out.out
  out.line(`${c.bold('Database:')} ${describeTarget(ctx.target)}`)
  out.line(`${c.bold('Folder:')}   ${displayPath(ctx.folder, ctx.io.cwd)}`)
  out.line(`${c.bold('Ledger:')}   ${status.ledgerSchema}.schema_versions`)
  if (status.otherSets.length)
    out.line(
      c.dim(
        `          other migration sets here: ${status.otherSets.join(', ')} (status --ledger-schema <schema> shows one)`,
      ),
    )
  out.line()

  const drifted = new Set(status.drifted.map((d) => d.version))
  const renamed = new Map(status.renamed.map((r) => [r.version, r.appliedFileName]))
  const late = new Set(status.outOfOrder.map((p) => p.version))
  type Row = { version: number; label: string; colour: (t: string) => string; fileName: string; note: string }
  const rows: Row[] = [
    ...status.applied.map((a): Row => {
      const was = renamed.get(a.version)
      const row = { version: a.version, fileName: a.fileName, ...appliedRow(a, drifted.has(a.version), c) }
      return was
        ? { ...row, label: 'RENAMED', colour: (t) => c.red(c.bold(t)), note: `applied as ${was}; renamed since` }
        : row
    }),
    ...status.pending.map(
      (p): Row => ({
        version: p.version,
        fileName: p.fileName,
        label: late.has(p.version) ? 'LATE' : 'pending',
        colour: late.has(p.version) ? (t) => c.red(c.bold(t)) : c.yellow,
        note: late.has(p.version)
          ? `numbered below the applied version ${status.currentVersion}: migrate refuses it (OUT_OF_ORDER)`
          : `${plural(p.statements, 'statement')}${p.atomic ? '' : ', not atomic'}`,
      }),
    ),
    ...status.missing.map(
      (m): Row => ({
        version: m.version,
        fileName: m.fileName ?? `version ${m.version}`,
        label: 'MISSING',
        colour: (t) => c.red(c.bold(t)),
        note: `applied ("${m.description}") but no such file in the folder`,
      }),
    ),
  ].sort((a, b) => a.version - b.version)
  const width = Math.max(0, ...rows.map((r) => r.fileName.length))
  for (const r of rows)
    out.line(`  ${r.colour(r.label.padEnd(8))} ${r.fileName.padEnd(width)}  ${c.dim(r.note)}`.trimEnd())
  if (rows.length === 0) out.line(c.dim('  (no migration files, nothing applied)'))
  out.line()

  const problems = [
    status.pending.length ? `${status.pending.length} pending` : '',
    status.drifted.length ? `${status.drifted.length} drifted` : '',
    status.missing.length ? `${status.missing.length} missing` : '',
    status.renamed.length ? `${status.renamed.length} renamed` : '',
  ].filter(Boolean)
  const unfinished = status.applied.filter((a) => !a.recordedByKysely || a.checksumMatches === null)
  if (status.isUpToDate) {
    out.line(
      c.green(
        `Up to date: ${versionPhrase(status.currentVersion)} (${plural(status.applied.length, 'file')} applied).`,
      ),
    )
    return
  }
  const summary = problems.length
    ? problems.join(', ')
    : `bookkeeping of ${plural(unfinished.length, 'file')} to complete`
  out.line(c.yellow(`Not up to date: ${versionPhrase(status.currentVersion)}; ${summary}.`))
  if (status.drifted.length) {
    const paths = status.drifted.map((d) => displayPath(join(ctx.folder, d.fileName), ctx.io.cwd)).join(' ')
    out.line(
      `  drifted: applied files were edited; restore them as applied (git log -p -- ${paths}) and put the change in a new file (wukong-migrate create <name>); --allow-drift migrates anyway`,
    )
  }
  if (status.missing.length) {
    out.line(
      `  missing: restore the files, or point --dir at the folder this database was migrated from; --allow-drift migrates anyway`,
    )
  }
  if (status.renamed.length)
    out.line(`  renamed: applied files keep the name they were applied under; rename them back`)
  if (status.outOfOrder.length)
    out.line(`  late: renumber them above ${status.currentVersion} (wukong-migrate create <name>, then move the SQL)`)
  else if (status.pending.length)
    out.line(`  pending: wukong-migrate migrate applies them (wukong-migrate plan shows their SQL)`)
  if (status.refusal) out.line(`  migrate would refuse: ${status.refusal.code}`)
  if (!problems.length && unfinished.length)
    out.line(`  wukong-migrate migrate completes it without running any file's SQL`)
}

function appliedRow(
  a: AppliedMigration,
  drifted: boolean,
  c: {
    green: (t: string) => string
    cyan: (t: string) => string
    red: (t: string) => string
    bold: (t: string) => string
  },
) {
  const when = a.appliedAt
    ? new Date(a.appliedAt)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : 'date unknown'
  const took = a.executionMs !== null ? `, ${formatDuration(a.executionMs)}` : ''
  if (drifted)
    return {
      label: 'DRIFTED',
      colour: (t: string) => c.red(c.bold(t)),
      note: `applied ${when}; the file was edited since (checksum differs)`,
    }
  if (a.checksumMatches === null)
    return { label: 'applied', colour: c.cyan, note: `${when}, by the old runner (migrate adopts it: no SQL runs)` }
  const notes = [
    a.adopted ? 'adopted from the old runner' : '',
    a.atomic ? '' : 'not atomic',
    a.recordedByKysely ? '' : 'migrate completes its bookkeeping',
  ].filter(Boolean)
  return {
    label: a.adopted ? 'adopted' : 'applied',
    colour: a.adopted ? c.cyan : c.green,
    note: `${when}${took}${notes.length ? ` (${notes.join('; ')})` : ''}`,
  }
}
