import { describe, expect, it } from 'vitest'

import { CONTENDERS, runBench, type BenchReport } from '../bench/bench.js'
import { evaluateTargets, renderResults } from '../bench/lib/report.js'
import { serverRequired } from '../src/testing/test-server.js'

// The benchmark at smoke size, so that its code cannot rot. It needs a real server (psql and
// dbmate connect over TCP), so it runs where TEST_DATABASE_URL is set (CI sets it). No timing
// is asserted: only that every contender completed every workload and that the round-trip
// counter counted.
const url = process.env['TEST_DATABASE_URL']
const skipReason = url ? undefined : 'TEST_DATABASE_URL is not set: the benchmark needs a real PostgreSQL server'
if (!url && serverRequired()) throw new Error(`bench smoke: ${skipReason}`)

describe.skipIf(!!skipReason)('bench (smoke size)', () => {
  it('runs every workload with every contender, and counts round trips', { timeout: 900_000 }, async () => {
    const report: BenchReport = await runBench({ url: url!, smoke: true, log: () => {} })
    const completed = (samples: readonly number[]): boolean =>
      samples.length > 0 && samples.every((s) => Number.isFinite(s) && s > 0)

    // W1: every contender applied the files, and the proxy counted its round trips.
    expect(report.w1.rows.map((r) => r.id)).toEqual([...CONTENDERS.map((c) => c.id), 'query-per-file'])
    for (const row of report.w1.rows) {
      expect(completed(row.samples), `W1 ${row.id}`).toBe(true)
      expect(row.counts?.queries, `W1 ${row.id} round trips`).toBeGreaterThan(0)
      expect(row.counts?.startups, `W1 ${row.id} startups`).toBeGreaterThan(0)
    }
    for (const row of report.w1.diagnostics) expect(completed(row.samples), `W1 ${row.id}`).toBe(true)

    // W2: every contender with a check, on both schema sizes.
    const checkers = CONTENDERS.filter((c) => c.check).map((c) => c.id)
    expect(new Set(report.w2.rows.map((r) => r.id))).toEqual(
      new Set([...checkers, 'ours-preparsed', 'snapshot', 'floor']),
    )
    for (const row of [...report.w2.rows, ...report.w2.pending]) {
      for (const size of [row.bySize.base, row.bySize.large]) {
        expect(completed(size.samples), `W2 ${row.id} ${row.connection}`).toBe(true)
        if (row.connection === 'cold') expect(size.counts?.queries, `W2 ${row.id} round trips`).toBeGreaterThan(0)
      }
    }
    expect(report.w2.pending.map((r) => r.id)).toEqual(['ours', 'kysely'])

    // W3: through the delaying proxy; ours's up-to-date check is a single query.
    expect(report.w3.rows.map((r) => r.id)).toEqual(CONTENDERS.map((c) => c.id))
    for (const row of report.w3.rows) {
      expect(row.apply.n, `W3 ${row.id} apply`).toBeGreaterThan(0)
      expect(row.applyCounts[0]?.queries, `W3 ${row.id} apply round trips`).toBeGreaterThan(0)
      if (row.check) expect(row.checkCounts[0]?.queries, `W3 ${row.id} check round trips`).toBeGreaterThan(0)
    }
    expect(report.w3.oursTrace?.apply.length).toBeGreaterThan(0)

    // W4: the fixture (or its direct stand-in) and migrating from scratch.
    expect(report.w4.rows.map((r) => r.id)).toContain('scratch')
    for (const row of report.w4.rows) expect(completed(row.samples), `W4 ${row.id}`).toBe(true)

    // W5: the installed tarball, Kysely's Migrator, the floor and the command lines, each a whole process.
    expect(report.w5.rows.map((r) => r.id)).toEqual([
      'ours',
      'kysely',
      'floor',
      'cli-migrate',
      'cli-status',
      'cli-version',
      'psql',
      'dbmate-status',
      'dbmate-up',
      'ours-import',
      'kysely-import',
    ])
    for (const row of report.w5.rows) {
      expect(completed(row.samples), `W5 ${row.id}`).toBe(true)
      // Modules are counted in node processes only (psql and dbmate are not).
      if (!/^(psql|dbmate)/.test(row.id)) expect(row.modules, `W5 ${row.id} modules`).toBeGreaterThan(0)
    }
    // The W3 and W5 targets are in the table.
    const targets = evaluateTargets(report).map((t) => t.target)
    expect(targets.filter((t) => t.includes('wukong-migrate'))).toHaveLength(3)
    expect(targets.some((t) => t.includes('1 connection startup + 1 round trip'))).toBe(true)

    // The report renders (a smoke run writes no file).
    expect(renderResults(report)).toContain('## W4')
    expect(renderResults(report)).toContain('## W5')
  })
})
