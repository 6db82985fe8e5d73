import { join } from 'node:path'

import type { Palette } from '../colors.js'
import type { AppliedMigration, MigrationStatus } from '../../provider/index.js'
import { printHeader, withRunner, type CommandContext, type CommandResult } from '../command-context.js'
import { EXIT } from '../exit-codes.js'
import { displayPath, formatDuration, plural } from '../format.js'
import { versionPhrase } from '../run-printer.js'

export async function statusCommand(ctx: CommandContext): Promise<CommandResult> {
  let status: MigrationStatus
  try {
    status = await withRunner(ctx, {}, (runner) => runner.status())
  } catch (error) {
    return { exitCode: EXIT.FAILED, fields: statusFields(), error }
  }
  if (!ctx.out.json) print(ctx, status)
  return {
    exitCode: ctx.args.check && !status.isUpToDate ? EXIT.NOT_UP_TO_DATE : EXIT.OK,
    fields: statusFields(status),
  }
}

// Without `refusal`, which the error reports; `appliedAt` dates serialise as ISO strings.
function statusFields(s?: MigrationStatus) {
  return {
    currentVersion: s?.currentVersion ?? null,
    isUpToDate: s?.isUpToDate ?? false,
    applied: s?.applied ?? [],
    pending: s?.pending ?? [],
    drifted: s?.drifted ?? [],
    missing: s?.missing ?? [],
    renamed: s?.renamed ?? [],
    outOfOrder: s?.outOfOrder ?? [],
    ledgerSchema: s?.ledgerSchema ?? null,
    otherSets: s?.otherSets ?? [],
    adopted: s?.adopted ?? [],
  }
}

function print(ctx: CommandContext, status: MigrationStatus): void {
  const { out } = ctx
  const c = out.out
  printHeader(ctx)
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

  const problems = (['pending', 'drifted', 'missing', 'renamed'] as const)
    .filter((k) => status[k].length)
    .map((k) => `${status[k].length} ${k}`)
  const unfinished = status.applied.filter((a) => !a.recordedByKysely || a.checksumMatches === null)
  const where = versionPhrase(status.currentVersion)
  if (status.isUpToDate) {
    out.line(c.green(`Up to date: ${where} (${plural(status.applied.length, 'file')} applied).`))
    return
  }
  const summary = problems.length
    ? problems.join(', ')
    : `bookkeeping of ${plural(unfinished.length, 'file')} to complete`
  out.line(c.yellow(`Not up to date: ${where}; ${summary}.`))
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

function appliedRow(a: AppliedMigration, drifted: boolean, c: Palette) {
  const iso = a.appliedAt?.toISOString()
  const when = iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : 'date unknown'
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
