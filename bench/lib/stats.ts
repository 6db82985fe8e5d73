/** Summary of one contender's timings in one workload, in milliseconds. */
export interface Summary {
  readonly n: number
  readonly median: number
  readonly min: number
  readonly max: number
}

/**
 * Median, min and max of a list of timings.
 *
 * @example
 * ```ts
 * summarize([3, 1, 2]).median // 2
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN }
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { n: sorted.length, median, min: sorted[0]!, max: sorted.at(-1)! }
}

/**
 * The order in which contenders run in round `round`: rotated by one each round, so that no
 * contender always runs first (cold caches) or right after a heavy one.
 *
 * @example
 * ```ts
 * rotation(['a', 'b', 'c'], 1) // ['b', 'c', 'a']
 * ```
 */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = items.length ? round % items.length : 0
  return [...items.slice(k), ...items.slice(0, k)]
}

/**
 * Runs `fn` and returns its wall time in milliseconds.
 *
 * @example
 * ```ts
 * const ms = await timed(() => runner.migrate())
 * ```
 */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}
