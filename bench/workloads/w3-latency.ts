import type { Contender } from '../contenders/contender.js'
import type { BenchContext, Rounds } from '../lib/context.js'
import { LatencyProxy, type ProxyCounts, type TracedQuery } from '../lib/latency-proxy.js'
import { wukongMigrations, writeMigrationFolders } from '../lib/migration-sets.js'
import { rotation, summarize, timed, type Summary } from '../lib/stats.js'

/** One contender in W3: apply, then the up-to-date check, each with its round trips. */
export interface W3Row {
  readonly id: string
  readonly label: string
  readonly runs: 'in-process' | 'spawned'
  readonly apply: Summary
  readonly check?: Summary
  /** Counts from every measured run (they should not vary; the report shows min–max). */
  readonly applyCounts: readonly ProxyCounts[]
  readonly checkCounts: readonly ProxyCounts[]
}

/** W3's outcome. */
export interface W3Result {
  readonly files: number
  readonly fileNames: readonly string[]
  readonly source: 'package'
  readonly delayMs: number
  readonly rounds: Rounds
  readonly rows: readonly W3Row[]
  /** Ours's round trips one by one, from an extra untimed run. */
  readonly oursTrace?: { readonly apply: readonly TracedQuery[]; readonly check: readonly TracedQuery[] }
}

/**
 * W3: the Wukong migrations applied to a fresh database and then checked, through the
 * loopback proxy that delays every chunk by `delayMs` each way. Each apply and each check
 * opens its own connection (a cold start), so each pays one startup round trip on top of
 * its queries. Round trips are counted on every run.
 *
 * @example
 * ```ts
 * const w3 = await runW3(ctx, contenders, { delayMs: 10, rounds })
 * ```
 */
export async function runW3(
  ctx: BenchContext,
  contenders: readonly Contender[],
  options: { delayMs: number; rounds: Rounds },
): Promise<W3Result> {
  const { specs, source } = await wukongMigrations()
  const folders = await writeMigrationFolders(ctx.workDir, 'w3-wukong', specs)
  for (const c of contenders) await c.prepare?.(folders)
  const proxy = await LatencyProxy.start({
    upstreamHost: ctx.upstream.host,
    upstreamPort: ctx.upstream.port,
    delayMs: options.delayMs,
  })
  let oursTrace: W3Result['oursTrace']
  const data = new Map(
    contenders.map((c) => [
      c.id,
      {
        apply: [] as number[],
        check: [] as number[],
        applyCounts: [] as ProxyCounts[],
        checkCounts: [] as ProxyCounts[],
      },
    ]),
  )
  try {
    const total = options.rounds.warmup + options.rounds.runs
    for (let round = 0; round < total; round++) {
      const measured = round >= options.rounds.warmup
      for (const contender of rotation(contenders, round)) {
        const d = data.get(contender.id)!
        const database = await ctx.admin.createDatabase(`w3_${contender.id}`)
        try {
          const target = { url: proxy.urlFor(ctx.admin.urlOf(database)), database }
          proxy.reset()
          const applyMs = await timed(() => contender.apply(target, folders))
          const applyCounts = proxy.counts()
          if (measured) {
            d.apply.push(applyMs)
            d.applyCounts.push(applyCounts)
          }
          if (contender.check) {
            proxy.reset()
            const checkMs = await timed(() => contender.check!(target, folders))
            const checkCounts = proxy.counts()
            if (measured) {
              d.check.push(checkMs)
              d.checkCounts.push(checkCounts)
            }
          }
        } finally {
          await ctx.admin.dropDatabase(database)
        }
      }
      ctx.log(`W3 round ${round + 1}/${total} ${measured ? '' : '(warm-up) '}done`)
    }
    const traced = contenders.find((c) => c.id === 'ours')
    if (traced) {
      const database = await ctx.admin.createDatabase('w3_trace')
      try {
        const target = { url: proxy.urlFor(ctx.admin.urlOf(database)), database }
        proxy.reset({ trace: true })
        await traced.apply(target, folders)
        const apply = proxy.trace()
        proxy.reset({ trace: true })
        await traced.check!(target, folders)
        oursTrace = { apply, check: proxy.trace() }
      } finally {
        await ctx.admin.dropDatabase(database)
      }
    }
  } finally {
    await proxy.close()
  }
  return {
    files: specs.length,
    fileNames: specs.map((s) => `${String(s.version).padStart(3, '0')}_${s.slug}.sql`),
    source,
    delayMs: options.delayMs,
    rounds: options.rounds,
    oursTrace,
    rows: contenders.map((c) => {
      const d = data.get(c.id)!
      return {
        id: c.id,
        label: c.label,
        runs: c.runs,
        apply: summarize(d.apply),
        check: c.check ? summarize(d.check) : undefined,
        applyCounts: d.applyCounts,
        checkCounts: d.checkCounts,
      }
    }),
  }
}
