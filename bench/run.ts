import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

import { runBench } from './bench.js'
import { renderResults, renderSummary } from './lib/report.js'

/**
 * `npm run bench`: every workload at full size, then bench/RESULTS.md.
 * `npm run bench:smoke` (or BENCH_SMOKE=1): every workload at tiny size, printed only.
 *
 * Environment: BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the local test server at
 * 127.0.0.1:55432), BENCH_RUNS (measured runs per workload, overriding the defaults),
 * BENCH_NOTE (a line quoted at the top of RESULTS.md, e.g. why a run is preliminary).
 */
const smoke = process.argv.includes('--smoke') || process.env['BENCH_SMOKE'] === '1'
const url =
  process.env['BENCH_DATABASE_URL'] ??
  process.env['TEST_DATABASE_URL'] ??
  'postgres://postgres@127.0.0.1:55432/postgres'
const runs = process.env['BENCH_RUNS'] ? Number(process.env['BENCH_RUNS']) : undefined
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0))
  throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env['BENCH_RUNS']}`)

const report = await runBench({ url, smoke, runs })
if (smoke) {
  console.log(renderSummary(report))
} else {
  const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url))
  await writeFile(path, renderResults(report, { note: process.env['BENCH_NOTE'] }))
  console.log(`wrote ${path}`)
}
