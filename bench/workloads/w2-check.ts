import type { CheckSession, Contender, Target } from '../contenders/contender.js'
import { floorSession, oursPreparsedSession, snapshotSession } from '../contenders/ours.js'
import type { BenchContext, Rounds, TimedRow } from '../lib/context.js'
import { LatencyProxy, type ProxyCounts } from '../lib/latency-proxy.js'
import {
  extraTablesSql,
  oneTableMigrations,
  writeMigrationFolders,
  type MigrationFolders,
} from '../lib/migration-sets.js'
import { rotation, summarize, timed } from '../lib/stats.js'
import { measurePending } from './w2-pending.js'
import type { W2Row, W2Size } from './w2-types.js'

export type { W2Row, W2Size } from './w2-types.js'

/** W2's outcome. */
export interface W2Result {
  readonly files: number
  readonly sizes: readonly W2Size[]
  readonly rounds: Rounds
  readonly rows: readonly W2Row[]
  /** Diagnostic: one pending file applied by ours and by Kysely's Migrator (the slow path). */
  readonly pending: readonly W2Row[]
}

interface Entry {
  readonly id: string
  readonly label: string
  readonly connection: 'warm' | 'cold'
  readonly runs: 'in-process' | 'spawned'
  readonly diagnostic: boolean
  readonly size: W2Size
  readonly target: Target
  readonly contender?: Contender
  session?: CheckSession
  readonly samples: number[]
}

/**
 * W2: the up-to-date check with `files` applied files, on a schema of `files` tables and of
 * `files + extraTables` tables. Each tool gets its own database per size, migrated by that
 * tool (untimed); every check must find nothing to do. Rows:
 * - warm (a connection kept open, a fresh runner/Migrator/Postgrator per check, files read
 *   from disk each time): ours, Kysely's Migrator, postgrator; plus two diagnostics: ours
 *   with the files already parsed, and the floor (one query reading the ledger);
 * - cold (new connection, or a new process, per check): the same tools and dbmate.
 * Round trips of each cold check are counted in one untimed pass through the proxy.
 *
 * @example
 * ```ts
 * const w2 = await runW2(ctx, contenders, { files: 300, extraTables: 2000, rounds })
 * ```
 */
export async function runW2(
  ctx: BenchContext,
  contenders: readonly Contender[],
  options: { files: number; extraTables: number; rounds: Rounds },
): Promise<W2Result> {
  const folders = await writeMigrationFolders(ctx.workDir, `w2-${options.files}`, oneTableMigrations(options.files))
  const sizes: W2Size[] = [
    { key: 'base', tables: options.files },
    { key: 'large', tables: options.files + options.extraTables },
  ]
  for (const c of contenders) await c.prepare?.(folders)
  const checkers = contenders.filter((c) => c.check)
  const entries: Entry[] = []
  try {
    for (const size of sizes) {
      for (const contender of checkers) {
        const target = await migratedDatabase(ctx, contender, folders, size.tables - options.files)
        const common = { size, target, contender, runs: contender.runs }
        if (contender.openSession) {
          entries.push({
            ...common,
            samples: [],
            id: contender.id,
            label: contender.label,
            connection: 'warm',
            diagnostic: false,
            session: await contender.openSession(target, folders),
          })
        }
        entries.push({
          ...common,
          samples: [],
          id: contender.id,
          label: contender.label,
          connection: 'cold',
          diagnostic: false,
        })
        if (contender.id === 'ours') {
          const diag = { size, target, runs: 'in-process' as const, connection: 'warm' as const, diagnostic: true }
          entries.push({
            ...diag,
            samples: [],
            id: 'ours-preparsed',
            label: 'ours, one runner kept across checks (diagnostic)',
            session: await oursPreparsedSession(target, folders),
          })
          entries.push({
            ...diag,
            samples: [],
            id: 'snapshot',
            label: "ours's comparison query alone (diagnostic)",
            session: await snapshotSession(target, folders),
          })
          entries.push({
            ...diag,
            samples: [],
            id: 'floor',
            label: 'floor: one query reading the ledger (diagnostic)',
            session: await floorSession(target),
          })
        }
      }
      ctx.log(`W2 set up ${size.tables} tables`)
    }

    const total = options.rounds.warmup + options.rounds.runs
    for (let round = 0; round < total; round++) {
      for (const entry of rotation(entries, round)) {
        const ms = await timed(() =>
          entry.session ? entry.session.check() : entry.contender!.check!(entry.target, folders),
        )
        if (round >= options.rounds.warmup) entry.samples.push(ms)
      }
      ctx.log(`W2 round ${round + 1}/${total} ${round < options.rounds.warmup ? '(warm-up) ' : ''}done`)
    }

    const counts = await countChecks(
      ctx,
      entries.filter((e) => e.connection === 'cold'),
      folders,
    )
    const rows: W2Row[] = []
    for (const e of entries.filter((x) => x.size.key === 'base')) {
      const pick = (key: W2Size['key']): TimedRow => {
        const m = entries.find((x) => x.size.key === key && x.id === e.id && x.connection === e.connection)!
        return {
          id: m.id,
          label: m.label,
          runs: m.runs,
          samples: m.samples,
          summary: summarize(m.samples),
          counts: counts.get(m),
        }
      }
      rows.push({
        id: e.id,
        label: e.label,
        connection: e.connection,
        runs: e.runs,
        diagnostic: e.diagnostic,
        bySize: { base: pick('base'), large: pick('large') },
      })
    }
    for (const e of entries) await e.session?.close()
    for (const e of entries) e.session = undefined
    ctx.log('W2 checks done; measuring one pending file')
    const pending = await measurePending(
      ctx,
      entries.filter((e) => e.connection === 'cold'),
      options.files,
      options.rounds,
    )
    return { files: options.files, sizes, rounds: options.rounds, rows, pending }
  } finally {
    for (const e of entries) await e.session?.close().catch(() => {})
    for (const database of new Set(entries.map((e) => e.target.database)))
      await ctx.admin.dropDatabase(database).catch(() => {})
  }
}

async function migratedDatabase(
  ctx: BenchContext,
  contender: Contender,
  folders: MigrationFolders,
  extraTables: number,
): Promise<Target> {
  const database = await ctx.admin.createDatabase(`w2_${contender.id}`)
  const target = { url: ctx.admin.urlOf(database), database }
  await contender.apply(target, folders)
  if (extraTables > 0) await ctx.admin.query(extraTablesSql(extraTables), database)
  await ctx.admin.query('ANALYZE', database)
  return target
}

async function countChecks(
  ctx: BenchContext,
  entries: readonly Entry[],
  folders: MigrationFolders,
): Promise<Map<Entry, ProxyCounts>> {
  const proxy = await LatencyProxy.start({
    upstreamHost: ctx.upstream.host,
    upstreamPort: ctx.upstream.port,
    delayMs: 0,
  })
  const counts = new Map<Entry, ProxyCounts>()
  try {
    for (const entry of entries) {
      proxy.reset()
      await entry.contender!.check!({ ...entry.target, url: proxy.urlFor(entry.target.url) }, folders)
      counts.set(entry, proxy.counts())
    }
  } finally {
    await proxy.close()
  }
  return counts
}
