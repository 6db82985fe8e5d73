import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, describe, expect, it } from 'vitest'

// CI's last line (`tests: N passed, N failed, N skipped`), checked on real vitest runs of small
// fixture suites: every kind of failure, in a test or outside one, must count.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs')
const REPORTER = join(ROOT, 'scripts/vitest-summary-reporter.mjs')
const SUMMARY = join(ROOT, 'scripts/ci-summary.mjs')

const folders: string[] = []
afterAll(() => Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true }))))

interface Outcome {
  readonly vitestStatus: number
  /** What scripts/ci-summary.mjs printed, line by line. */
  readonly lines: readonly string[]
  readonly summaryStatus: number
}

function run(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { env, timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
      },
    )
  })
}

/** This process's environment without the variables vitest sets for its own workers. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('VITEST') && name !== 'NODE_ENV' && name !== 'TEST') env[name] = value
  return { ...env, ...extra }
}

/** Runs vitest with the summary reporter on `files` (globals on, so they need no imports), then ci-summary. */
async function ciRun(files: Record<string, string>): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-ci-summary-'))
  folders.push(dir)
  await writeFile(
    join(dir, 'vitest.config.mjs'),
    "export default { test: { globals: true, include: ['*.test.mjs'], pool: 'threads', maxWorkers: 1 } }\n",
  )
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body)
  const summary = join(dir, 'summary.json')
  const vitest = await run(
    VITEST,
    ['run', '--root', dir, '--config', join(dir, 'vitest.config.mjs'), `--reporter=${REPORTER}`],
    cleanEnv({ WUKONG_TEST_SUMMARY: summary }),
  )
  const result = await run(SUMMARY, [summary, String(vitest.status)], cleanEnv({}))
  return { vitestStatus: vitest.status, lines: result.stdout.trimEnd().split('\n'), summaryStatus: result.status }
}

const PASSING = {
  'passing.test.mjs': [
    "it('passes', () => {})",
    "it.fails('an expected failure', () => { throw new Error('the bug') })",
    "it.skip('skipped', () => {})",
    '',
  ].join('\n'),
}

// Concurrent: each case is a vitest process of its own, mostly start-up time.
describe.concurrent('the CI summary line', () => {
  it('a clean run: passes, expected failures apart, skips; exit 0', async () => {
    const outcome = await ciRun(PASSING)
    expect(outcome.vitestStatus).toBe(0)
    expect(outcome.lines).toEqual(['expected failures: 1', 'tests: 1 passed, 0 failed, 1 skipped'])
    expect(outcome.summaryStatus).toBe(0)
  })

  // One run each for the failures CI once missed, to show that each alone is counted.
  const alone: Record<string, { files: Record<string, string>; says: RegExp }> = {
    'a suite that fails to load': {
      files: { 'broken.test.mjs': "throw new Error('cannot load')\nit('never collected', () => {})\n" },
      says: /^failed outside a test: broken\.test\.mjs: Error: cannot load$/,
    },
    'a failing beforeAll hook (its tests are skipped)': {
      files: {
        'hook.test.mjs':
          "describe('setup', () => {\n  beforeAll(() => { throw new Error('no server') })\n  it('needs it', () => {})\n})\n",
      },
      says: /^failed outside a test: hook\.test\.mjs > setup: Error: no server$/,
    },
    'an unhandled error (every test passed)': {
      files: {
        'escape.test.mjs':
          "it('passes', async () => {\n  setTimeout(() => { throw new Error('escaped') }, 1)\n  await new Promise((r) => setTimeout(r, 100))\n})\n",
      },
      says: /^unhandled error: Error: escaped$/,
    },
  }
  for (const [name, { files, says }] of Object.entries(alone)) {
    it(`${name} counts as a failure`, async () => {
      const outcome = await ciRun({ ...PASSING, ...files })
      expect(outcome.vitestStatus).not.toBe(0)
      expect(outcome.lines.at(-1)).toMatch(/^tests: \d+ passed, [1-9]\d* failed, \d+ skipped$/)
      expect(outcome.lines).toContainEqual(expect.stringMatching(says))
      expect(outcome.lines.at(-2)).toBe('expected failures: 1')
      expect(outcome.summaryStatus).toBe(1)
    })
  }

  it('every kind of failure in one run counts once each', async () => {
    const outcome = await ciRun({
      ...PASSING,
      'failing.test.mjs': "it('fails', () => { throw new Error('no') })\n",
      'fixed.test.mjs': "it.fails('the bug is gone', () => {})\n",
      'teardown.test.mjs': "afterAll(() => { throw new Error('cleanup failed') })\nit('passes too', () => {})\n",
      'rejection.test.mjs':
        "it('passes as well', async () => {\n  Promise.reject(new Error('rejected'))\n  await new Promise((r) => setTimeout(r, 100))\n})\n",
      'broken.test.mjs': "throw new Error('cannot load')\n",
      'hook.test.mjs':
        "describe('setup', () => {\n  beforeAll(() => { throw new Error('no server') })\n  it('needs it', () => {})\n})\n",
    })
    expect(outcome.vitestStatus).not.toBe(0)
    // Passed: passes, passes too, passes as well. Failed: fails, the bug is gone (an expected
    // failure that passed), cleanup failed, rejected, cannot load, no server. Skipped: skipped,
    // needs it (its beforeAll failed).
    expect(outcome.lines.at(-1)).toBe('tests: 3 passed, 6 failed, 2 skipped')
    expect(outcome.lines.at(-2)).toBe('expected failures: 1')
    expect(outcome.lines.slice(0, -2).sort()).toEqual([
      'failed outside a test: broken.test.mjs: Error: cannot load',
      'failed outside a test: hook.test.mjs > setup: Error: no server',
      'failed outside a test: teardown.test.mjs: Error: cleanup failed',
      'unhandled error: Error: rejected',
    ])
  })
})

describe('the CI summary line without a usable summary', () => {
  async function summaryOf(content: string | undefined, status: number): Promise<{ lines: string[]; status: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'wk-ci-summary-'))
    folders.push(dir)
    const file = join(dir, 'summary.json')
    if (content !== undefined) await writeFile(file, content)
    const result = await run(SUMMARY, [file, String(status)], cleanEnv({}))
    return { lines: result.stdout.trimEnd().split('\n'), status: result.status }
  }

  it('no summary (vitest never ran, e.g. tsc failed first): 1 failed, whatever the status', async () => {
    for (const content of [undefined, '', '{"not":"a summary"}']) {
      for (const status of [0, 2]) {
        const { lines, status: exit } = await summaryOf(content, status)
        expect(lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped')
        expect(exit).toBe(1)
      }
    }
  })

  /** A summary of one file whose tests ended in `states`, in a run that ended with `reason`. */
  const summaryJson = (reason: string, states: readonly string[]): string =>
    JSON.stringify({
      version: 1,
      reason,
      modules: [
        {
          file: 'a.test.ts',
          state: reason === 'passed' ? 'passed' : 'failed',
          errors: [],
          suiteErrors: [],
          tests: states.map((state, i) => ({ name: `t${i}`, state, mode: 'run', expectedFailure: false, errors: [] })),
        },
      ],
      unhandledErrors: [],
    })

  /** ci-summary over several runs: [summary file content (undefined: no file), exit status] each. */
  async function summaryOfRuns(runs: [string | undefined, number][]): Promise<{ lines: string[]; status: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'wk-ci-summary-'))
    folders.push(dir)
    const args: string[] = []
    for (const [i, [content, status]] of runs.entries()) {
      const file = join(dir, `summary-${i}.json`)
      if (content !== undefined) await writeFile(file, content)
      args.push(file, String(status))
    }
    const result = await run(SUMMARY, args, cleanEnv({}))
    return { lines: result.stdout.trimEnd().split('\n'), status: result.status }
  }

  it('two runs (npm test, then the end-to-end run): one line that counts both', async () => {
    const clean = summaryJson('passed', ['passed', 'skipped'])
    expect(
      await summaryOfRuns([
        [clean, 0],
        [clean, 0],
      ]),
    ).toEqual({
      lines: ['expected failures: 0', 'tests: 2 passed, 0 failed, 2 skipped'],
      status: 0,
    })
    // A failure in either run fails the whole.
    for (const runs of [
      [
        [summaryJson('failed', ['failed', 'skipped']), 1],
        [clean, 0],
      ],
      [
        [clean, 0],
        [summaryJson('failed', ['failed', 'skipped']), 1],
      ],
    ] as [string, number][][]) {
      expect(await summaryOfRuns(runs)).toEqual({
        lines: ['expected failures: 0', 'tests: 1 passed, 1 failed, 2 skipped'],
        status: 1,
      })
    }
    // The end-to-end run left nothing (it crashed, or never started): still a failure.
    const e2eMissing = await summaryOfRuns([
      [clean, 0],
      [undefined, 0],
    ])
    expect(e2eMissing.lines.at(-1)).toBe('tests: 1 passed, 1 failed, 1 skipped')
    expect(e2eMissing.status).toBe(1)
  })

  it('vitest exited non-zero with nothing failed in its summary: 1 failed', async () => {
    const clean = summaryJson('passed', ['passed'])
    expect((await summaryOf(clean, 0)).lines.at(-1)).toBe('tests: 1 passed, 0 failed, 0 skipped')
    const { lines, status } = await summaryOf(clean, 1)
    expect(lines.at(-1)).toBe('tests: 1 passed, 1 failed, 0 skipped')
    expect(lines).toContain('vitest exited 1 (run passed) with no failure in its summary')
    expect(status).toBe(1)
  })
})
