import { Kysely, PostgresDialect } from 'kysely'
import { Migrator } from 'kysely/migration'
import pg from 'pg'

import { MigrationRunner } from '../../src/index.js'
import { guardConnectionErrors } from '../../src/connect/index.js'
import type { Target } from '../contenders/contender.js'
import { kyselyMigrator, rawSqlProvider } from '../contenders/kysely-migrator.js'
import type { BenchContext, Rounds, TimedRow } from '../lib/context.js'
import { LatencyProxy, type ProxyCounts } from '../lib/latency-proxy.js'
import { oneTableMigrations, writeMigrationFolders, type MigrationFolders } from '../lib/migration-sets.js'
import { rotation, summarize, timed } from '../lib/stats.js'
import type { W2Row, W2Size } from './w2-types.js'

interface PendingEntry {
  readonly id: 'ours' | 'kysely'
  readonly size: W2Size
  readonly target: Target
  readonly samples: number[]
}

/**
 * Diagnostic for the slow path: with `files` applied, ONE more file is pending; ours and
 * Kysely's Migrator apply it (new connection each), on both schema sizes. Between runs the
 * file is reverted (untimed: its table dropped, its ledger rows deleted). Shows whether the
 * path that hands over to Kysely's Migrator grows with the catalog (Kysely's
 * `introspection.getTables()`).
 *
 * @example
 * ```ts
 * const rows = await measurePending(ctx, targets, 300, rounds)
 * ```
 */
export async function measurePending(
  ctx: BenchContext,
  targets: readonly { readonly id: string; readonly size: W2Size; readonly target: Target }[],
  files: number,
  rounds: Rounds,
): Promise<W2Row[]> {
  const specs = oneTableMigrations(files + 1)
  if (oneTableMigrations(files)[0]!.slug !== specs[0]!.slug)
    throw new Error('pending file would renumber the applied ones')
  const folders = await writeMigrationFolders(ctx.workDir, `w2-${files}-pending`, specs)
  await kyselyMigrator.prepare!(folders)
  const last = specs.at(-1)!
  const name = `${String(last.version).padStart(3, '0')}_${last.slug}`
  const entries: PendingEntry[] = targets
    .filter((t): t is typeof t & { id: 'ours' | 'kysely' } => t.id === 'ours' || t.id === 'kysely')
    .map((t) => ({ id: t.id, size: t.size, target: t.target, samples: [] }))

  const revert = async (e: PendingEntry): Promise<void> => {
    const ledger = e.id === 'ours' ? `DELETE FROM schema_versions WHERE version = ${last.version};` : ''
    await ctx.admin.query(
      `DROP TABLE bench_t${name.slice(0, name.indexOf('_'))}; ${ledger} DELETE FROM kysely_migration WHERE name = '${name}';`,
      e.target.database,
    )
  }
  const total = rounds.warmup + rounds.runs
  for (let round = 0; round < total; round++) {
    for (const e of rotation(entries, round)) {
      const ms = await timed(() => applyOne(e.id, e.target, folders))
      await revert(e)
      if (round >= rounds.warmup) e.samples.push(ms)
    }
  }
  const proxy = await LatencyProxy.start({
    upstreamHost: ctx.upstream.host,
    upstreamPort: ctx.upstream.port,
    delayMs: 0,
  })
  const counts = new Map<PendingEntry, ProxyCounts>()
  try {
    for (const e of entries) {
      proxy.reset()
      await applyOne(e.id, { ...e.target, url: proxy.urlFor(e.target.url) }, folders)
      counts.set(e, proxy.counts())
      await revert(e)
    }
  } finally {
    await proxy.close()
  }
  const row = (id: 'ours' | 'kysely', label: string): W2Row => {
    const pick = (key: W2Size['key']): TimedRow => {
      const e = entries.find((x) => x.id === id && x.size.key === key)!
      return { id, label, runs: 'in-process', samples: e.samples, summary: summarize(e.samples), counts: counts.get(e) }
    }
    return {
      id,
      label,
      connection: 'cold',
      runs: 'in-process',
      diagnostic: true,
      bySize: { base: pick('base'), large: pick('large') },
    }
  }
  return [row('ours', 'ours (MigrationRunner)'), row('kysely', "Kysely's Migrator (in-memory provider)")]
}

async function applyOne(id: 'ours' | 'kysely', target: Target, folders: MigrationFolders): Promise<void> {
  if (id === 'ours') {
    const runner = new MigrationRunner({ url: target.url, migrationFolder: folders.ours, log: () => {} })
    try {
      const { results } = await runner.migrate()
      if (results.length !== 1 || results[0]!.status !== 'applied')
        throw new Error(`ours: expected one file applied, got ${JSON.stringify(results)}`)
    } finally {
      await runner.close()
    }
    return
  }
  const db = new Kysely({
    dialect: new PostgresDialect({ pool: guardConnectionErrors(new pg.Pool({ connectionString: target.url })) }),
  })
  try {
    const { error, results } = await new Migrator({ db, provider: rawSqlProvider(folders.ours) }).migrateToLatest()
    if (error) throw error
    if (results?.length !== 1) throw new Error(`kysely: expected one file applied, got ${results?.length}`)
  } finally {
    await db.destroy()
  }
}
