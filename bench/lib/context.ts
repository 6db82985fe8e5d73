import type { PgAdmin } from './pg-admin.js'
import type { ProxyCounts } from './latency-proxy.js'
import type { Summary } from './stats.js'

/** What every workload gets from the harness. */
export interface BenchContext {
  readonly admin: PgAdmin
  /** Scratch folder for generated migration folders (removed at the end). */
  readonly workDir: string
  readonly smoke: boolean
  /** Progress lines (stderr). */
  readonly log: (line: string) => void
  /** The server's host and port, for the proxy. */
  readonly upstream: { readonly host: string; readonly port: number }
}

/** One contender's timings in one workload. */
export interface TimedRow {
  readonly id: string
  readonly label: string
  readonly runs: 'in-process' | 'spawned'
  readonly samples: readonly number[]
  readonly summary: Summary
  /** Round trips seen by the counting proxy in an untimed pass (when counted). */
  readonly counts?: ProxyCounts
}

/** How many measured rounds (after `warmup` untimed ones). */
export interface Rounds {
  readonly warmup: number
  readonly runs: number
}
