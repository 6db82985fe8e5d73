import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the reliability suites leave their results for scripts/reliability-report.ts. */
export const RESULTS_DIR = fileURLToPath(new URL('../reliability/.results', import.meta.url))

/** True under `npm run test:soak` (WUKONG_SOAK=1): larger trial counts. */
export const SOAK = process.env['WUKONG_SOAK'] === '1'

/** One scenario's outcome, as RELIABILITY.md reports it. */
export interface ScenarioResult {
  /** Stable id, also the results file's name. */
  readonly id: string
  /** The kind of failure: 'Concurrent boots', 'kill -9', … */
  readonly group: string
  readonly scenario: string
  readonly trials: number
  readonly failures: number
  readonly outcome: 'pass' | 'fail'
  readonly durationMs: number
  /** A shell command that reruns it. */
  readonly command: string
  readonly soak: boolean
  readonly recordedAt: string
  /** Short facts worth a line in the report (distribution of kill points, timings, …). */
  readonly notes?: readonly string[]
  readonly error?: string
  /** Per-case rows, for a scenario made of cases (the bad-input corpus). */
  readonly cases?: readonly CaseResult[]
}

/** One case of a corpus. */
export interface CaseResult {
  readonly name: string
  readonly covers: string
  /** What the manifest expects, e.g. `INVALID_UTF8 at 3:36` or `applies`. */
  readonly expected: string
  /** What happened, e.g. the error's code and message. */
  readonly observed: string
  readonly outcome: 'pass' | 'fail'
  readonly ms: number
}

/**
 * Writes one scenario's result under RESULTS_DIR (recordScenario does this for most scenarios).
 */
export function writeScenarioResult(result: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(RESULTS_DIR, `${result.id}.json`), `${JSON.stringify(result, null, 2)}\n`)
}

/** The command that reruns a test by name. */
export function reproduceCommand(file: string, testName: string, env: Record<string, string> = {}): string {
  const all = { ...(SOAK ? { WUKONG_SOAK: '1' } : {}), ...env }
  const prefix = Object.entries(all)
    .map(([k, v]) => `${k}=${v} `)
    .join('')
  return `${prefix}npx vitest run ${file} -t ${shellQuote(testName)}`
}

/** What a scenario's body reports as it goes (kept when it throws). */
export interface ScenarioProgress {
  /** Trials completed so far. */
  trials: number
  /** Trials that broke an invariant but were counted rather than thrown. */
  failures: number
  readonly notes: string[]
}

/**
 * Runs a scenario and records its outcome, pass or fail, under RESULTS_DIR. A throw records a
 * failure (with the trials done until then) and is rethrown, so the test fails too.
 *
 * @example
 * ```ts
 * await recordScenario({ id: 'kill-9', group: 'kill -9', scenario: '…', file: 'test/reliability/kill-9.e2e.ts', testName: '…' }, async (p) => {
 *   for (let i = 0; i < 50; i++) { await trial(i); p.trials++ }
 * })
 * ```
 */
export async function recordScenario(
  meta: {
    readonly id: string
    readonly group: string
    readonly scenario: string
    readonly file: string
    readonly testName: string
    readonly env?: Record<string, string>
  },
  body: (progress: ScenarioProgress) => Promise<void>,
): Promise<void> {
  const started = performance.now()
  const progress: ScenarioProgress = { trials: 0, failures: 0, notes: [] }
  const write = (error?: unknown) => {
    const failures = progress.failures + (error === undefined ? 0 : 1)
    const full: ScenarioResult = {
      id: meta.id,
      group: meta.group,
      scenario: meta.scenario,
      trials: progress.trials,
      failures,
      outcome: failures === 0 ? 'pass' : 'fail',
      durationMs: Math.round(performance.now() - started),
      command: reproduceCommand(meta.file, meta.testName, meta.env),
      soak: SOAK,
      recordedAt: new Date().toISOString(),
      notes: progress.notes,
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message.slice(0, 2000) : String(error) }),
    }
    writeScenarioResult(full)
  }
  try {
    await body(progress)
  } catch (error) {
    write(error)
    throw error
  }
  write()
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * A small seeded PRNG (mulberry32), so random kill instants can be replayed with
 * WUKONG_RELIABILITY_SEED.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** WUKONG_RELIABILITY_SEED, else a fresh seed (recorded in the results to replay it). */
export function reliabilitySeed(): number {
  const fixed = process.env['WUKONG_RELIABILITY_SEED']
  return fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31)
}
