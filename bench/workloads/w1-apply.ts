import type { Contender, Target } from '../contenders/contender.js'
import { FILE_DIAGNOSTICS } from '../contenders/file-loading.js'
import type { BenchContext, Rounds, TimedRow } from '../lib/context.js'
import { LatencyProxy, type ProxyCounts } from '../lib/latency-proxy.js'
import { oneTableMigrations, writeMigrationFolders, type MigrationFolders } from '../lib/migration-sets.js'
import { rotation, summarize, timed } from '../lib/stats.js'

/** W1's outcome. */
export interface W1Result {
  readonly files: number
  readonly rounds: Rounds
  readonly rows: readonly TimedRow[]
  /** No database: where ours's time goes before the first query (see file-loading.ts). */
  readonly diagnostics: readonly TimedRow[]
}

const DIAGNOSTICS = FILE_DIAGNOSTICS

/**
 * W1: apply `files` one-table migrations to an empty database, a fresh one per run. Each
 * run times the contender's whole job: connect (or start the program), read the files,
 * apply them, disconnect. Creating and dropping the database is not timed. After the timed
 * rounds, one untimed pass through the counting proxy (no delay) counts round trips.
 *
 * @example
 * ```ts
 * const w1 = await runW1(ctx, contenders, { files: 300, rounds: { warmup: 1, runs: 7 } })
 * ```
 */
export async function runW1(
  ctx: BenchContext,
  contenders: readonly Contender[],
  options: { files: number; rounds: Rounds },
): Promise<W1Result> {
  const folders = await writeMigrationFolders(ctx.workDir, `w1-${options.files}`, oneTableMigrations(options.files))
  for (const c of contenders) await c.prepare?.(folders)
  const samples = new Map<string, number[]>([...contenders, ...DIAGNOSTICS].map((c) => [c.id, []]))
  const total = options.rounds.warmup + options.rounds.runs
  for (let round = 0; round < total; round++) {
    for (const contender of rotation(contenders, round)) {
      const ms = await applyToFreshDatabase(
        ctx,
        contender,
        folders,
        (url) => url,
        expectBenchTables(ctx, folders.count),
      )
      if (round >= options.rounds.warmup) samples.get(contender.id)!.push(ms)
    }
    for (const d of DIAGNOSTICS) {
      const ms = await timed(() => d.run(folders.ours))
      if (round >= options.rounds.warmup) samples.get(d.id)!.push(ms)
    }
    ctx.log(`W1 round ${round + 1}/${total} ${round < options.rounds.warmup ? '(warm-up) ' : ''}done`)
  }
  const counts = await countApplies(ctx, contenders, folders)
  return {
    files: options.files,
    rounds: options.rounds,
    rows: contenders.map((c) => ({
      id: c.id,
      label: c.label,
      runs: c.runs,
      samples: samples.get(c.id)!,
      summary: summarize(samples.get(c.id)!),
      counts: counts.get(c.id),
    })),
    diagnostics: DIAGNOSTICS.map((d) => ({
      id: d.id,
      label: d.label,
      runs: 'in-process',
      samples: samples.get(d.id)!,
      summary: summarize(samples.get(d.id)!),
    })),
  }
}

/**
 * Applies `folders` with `contender` to a new empty database and returns the wall time
 * (creating, verifying and dropping the database are not timed).
 */
export async function applyToFreshDatabase(
  ctx: BenchContext,
  contender: Contender,
  folders: MigrationFolders,
  route: (url: string) => string,
  verify?: (database: string, contender: Contender) => Promise<void>,
): Promise<number> {
  const database = await ctx.admin.createDatabase(`w_${contender.id}`)
  try {
    const target: Target = { url: route(ctx.admin.urlOf(database)), database }
    const ms = await timed(() => contender.apply(target, folders))
    await verify?.(database, contender)
    return ms
  } finally {
    await ctx.admin.dropDatabase(database)
  }
}

/** A check that the database has exactly `n` benchmark tables. */
export function expectBenchTables(
  ctx: BenchContext,
  n: number,
): (database: string, contender: Contender) => Promise<void> {
  return async (database, contender) => {
    const [row] = await ctx.admin.query<{ n: number }>(
      `select count(*)::int as n from pg_tables where tablename like 'bench\\_t%'`,
      database,
    )
    if (row?.n !== n) throw new Error(`${contender.id}: expected ${n} tables after applying, found ${row?.n}`)
  }
}

async function countApplies(
  ctx: BenchContext,
  contenders: readonly Contender[],
  folders: MigrationFolders,
): Promise<Map<string, ProxyCounts>> {
  const proxy = await LatencyProxy.start({
    upstreamHost: ctx.upstream.host,
    upstreamPort: ctx.upstream.port,
    delayMs: 0,
  })
  const counts = new Map<string, ProxyCounts>()
  try {
    for (const contender of contenders) {
      proxy.reset()
      await applyToFreshDatabase(
        ctx,
        contender,
        folders,
        (url) => proxy.urlFor(url),
        expectBenchTables(ctx, folders.count),
      )
      counts.set(contender.id, proxy.counts())
    }
  } finally {
    await proxy.close()
  }
  return counts
}
