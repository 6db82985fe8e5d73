// A vitest reporter that writes what a run found, as JSON, to the file named by
// WUKONG_TEST_SUMMARY: every test with its state and whether it is an expected failure
// (`it.fails`), every error vitest attached to a file or a suite rather than to a test (a file
// that failed to load, a failed beforeAll/afterAll), and the unhandled errors of the run, which
// vitest's JSON reporter leaves out. scripts/ci-summary.mjs turns it into CI's last line.
//
//   WUKONG_TEST_SUMMARY=/tmp/summary.json vitest run --reporter=default --reporter=./scripts/vitest-summary-reporter.mjs
//
// Plain Node, no dependencies: it reads vitest's reporter API (onTestRunEnd) and nothing else.
import { writeFileSync } from 'node:fs'

/** The summary's format version, read by scripts/ci-summary.mjs. */
export const SUMMARY_VERSION = 1

export default class SummaryReporter {
  /**
   * @param {ReadonlyArray<any>} testModules vitest's TestModule objects
   * @param {ReadonlyArray<{ name?: string; message?: string }>} unhandledErrors
   * @param {'passed' | 'interrupted' | 'failed'} reason
   */
  onTestRunEnd(testModules, unhandledErrors, reason) {
    const path = process.env.WUKONG_TEST_SUMMARY
    if (!path) return
    const summary = {
      version: SUMMARY_VERSION,
      reason,
      modules: testModules.map(describeModule),
      unhandledErrors: unhandledErrors.map(describeError),
    }
    writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`)
  }
}

function describeModule(module) {
  const suiteErrors = []
  for (const suite of module.children.allSuites()) {
    for (const error of suite.errors()) suiteErrors.push({ suite: suite.fullName, ...describeError(error) })
  }
  return {
    file: module.relativeModuleId,
    state: module.state(),
    // A file that failed to load, or a hook of the file itself (top-level beforeAll/afterAll).
    errors: module.errors().map(describeError),
    suiteErrors,
    tests: Array.from(module.children.allTests(), (test) => {
      const result = test.result()
      return {
        name: test.fullName,
        state: result.state,
        mode: test.options.mode,
        expectedFailure: test.options.fails === true,
        errors: (result.errors ?? []).map(describeError),
      }
    }),
  }
}

function describeError(error) {
  const message = typeof error?.message === 'string' ? error.message : String(error)
  return { name: typeof error?.name === 'string' ? error.name : 'Error', message: message.split('\n')[0].slice(0, 500) }
}
