// CI's closing lines, from the summaries scripts/vitest-summary-reporter.mjs wrote and the exit
// status of each run (CI runs `npm test` and `npm run test:e2e`; the line counts both):
//
//   node scripts/ci-summary.mjs <summary.json> <exit status> [<summary.json> <exit status> …]
//
//   failed outside a test: test/a.test.ts > setup: Error: connect ECONNREFUSED 127.0.0.1:5432
//   expected failures: 7
//   tests: 240 passed, 1 failed, 3 skipped
//
// The last line is always `tests: N passed, N failed, N skipped`. "failed" counts failed tests,
// errors outside tests (a file that failed to load, a failed beforeAll/afterAll) and unhandled
// errors, and it is at least 1 whenever vitest exited non-zero, was interrupted, or left no
// summary, for each run. Expected failures (`it.fails` that failed) are not counted as passed.
// Exits 1 when "failed" is not 0. Plain Node, no dependencies.
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/**
 * @typedef {{ name: string; message: string }} ReportedError
 * @typedef {{ name: string; state: string; mode: string; expectedFailure: boolean; errors: ReportedError[] }} ReportedTest
 * @typedef {{ file: string; state: string; errors: ReportedError[]; suiteErrors: (ReportedError & { suite: string })[]; tests: ReportedTest[] }} ReportedModule
 * @typedef {{ version: number; reason: string; modules: ReportedModule[]; unhandledErrors: ReportedError[] }} Summary
 * @typedef {{ passed: number; failed: number; skipped: number; expectedFailures: number; problems: string[] }} Counts
 */

/**
 * Counts a run. `summary` is undefined when the reporter wrote none (vitest crashed, or never
 * ran because an earlier step failed).
 *
 * @param {Summary | undefined} summary
 * @param {number} exitStatus vitest's (or `npm test`'s) exit status
 * @returns {Counts}
 */
export function summarize(summary, exitStatus) {
  const counts = { passed: 0, failed: 0, skipped: 0, expectedFailures: 0, problems: [] }
  if (!summary) {
    counts.failed = 1
    counts.problems.push(`no test summary: the test command exited ${exitStatus} without vitest reporting a run`)
    return counts
  }
  for (const module of summary.modules) {
    for (const test of module.tests) {
      if (test.state === 'passed') {
        if (test.expectedFailure) counts.expectedFailures++
        else counts.passed++
      } else if (test.state === 'failed') {
        counts.failed++
      } else if (test.state === 'skipped') {
        counts.skipped++
      } else {
        // Collected but never finished (the run was cut short).
        counts.failed++
        counts.problems.push(`did not finish: ${module.file} > ${test.name}`)
      }
    }
    for (const error of module.errors) {
      counts.failed++
      counts.problems.push(`failed outside a test: ${module.file}: ${error.name}: ${error.message}`)
    }
    for (const error of module.suiteErrors) {
      counts.failed++
      counts.problems.push(`failed outside a test: ${module.file} > ${error.suite}: ${error.name}: ${error.message}`)
    }
  }
  for (const error of summary.unhandledErrors) {
    counts.failed++
    counts.problems.push(`unhandled error: ${error.name}: ${error.message}`)
  }
  if (counts.failed === 0 && (exitStatus !== 0 || summary.reason !== 'passed')) {
    counts.failed = 1
    counts.problems.push(`vitest exited ${exitStatus} (run ${summary.reason}) with no failure in its summary`)
  }
  return counts
}

/**
 * The counts of several runs added up.
 *
 * @param {Counts[]} runs
 * @returns {Counts}
 */
export function combine(runs) {
  const total = { passed: 0, failed: 0, skipped: 0, expectedFailures: 0, problems: [] }
  for (const run of runs) {
    total.passed += run.passed
    total.failed += run.failed
    total.skipped += run.skipped
    total.expectedFailures += run.expectedFailures
    total.problems.push(...run.problems)
  }
  return total
}

/**
 * The closing lines: problems outside tests, expected failures, then the `tests:` line.
 *
 * @param {Counts} counts
 * @returns {string[]}
 */
export function render(counts) {
  return [
    ...counts.problems,
    `expected failures: ${counts.expectedFailures}`,
    `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  ]
}

/**
 * Reads a summary file; undefined when it is missing, empty or not a summary.
 *
 * @param {string} path
 * @returns {Summary | undefined}
 */
export function readSummary(path) {
  try {
    const summary = JSON.parse(readFileSync(path, 'utf8'))
    return Array.isArray(summary?.modules) && Array.isArray(summary?.unhandledErrors) ? summary : undefined
  } catch {
    return undefined
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const runs = []
  // No argument at all is a run that left nothing.
  for (let i = 0; i < Math.max(args.length, 1); i += 2) {
    const [path, status] = [args[i], args[i + 1]]
    const exitStatus = Number.isInteger(Number(status)) && status !== '' && status !== undefined ? Number(status) : 1
    runs.push(summarize(path ? readSummary(path) : undefined, exitStatus))
  }
  const counts = combine(runs)
  for (const line of render(counts)) console.log(line)
  process.exitCode = counts.failed === 0 ? 0 : 1
}
