import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { Contender } from './contenders/contender.js'
import { kyselyMigrator } from './contenders/kysely-migrator.js'
import { oneQuery, queryPerFile } from './contenders/one-query.js'
import { ours } from './contenders/ours.js'
import { postgrator } from './contenders/postgrator.js'
import { dbmate, psql } from './contenders/spawned-tools.js'
import type { BenchContext, Rounds } from './lib/context.js'
import { describeMachine, loadLine, type Machine } from './lib/machine.js'
import { PgAdmin } from './lib/pg-admin.js'
import { runW1, type W1Result } from './workloads/w1-apply.js'
import { runW2, type W2Result } from './workloads/w2-check.js'
import { runW3, type W3Result } from './workloads/w3-latency.js'
import { runW4, type W4Result } from './workloads/w4-fixtures.js'
import { runW5, type W5Result } from './workloads/w5-boot.js'

/** Sizes and repetitions of one benchmark run. */
export interface BenchSizes {
  readonly w1: { readonly files: number; readonly rounds: Rounds }
  readonly w2: { readonly files: number; readonly extraTables: number; readonly rounds: Rounds }
  readonly w3: { readonly delayMs: number; readonly rounds: Rounds }
  readonly w4: { readonly rounds: Rounds }
  readonly w5: { readonly rounds: Rounds }
}

/** The full sizes of each workload. */
export const FULL_SIZES: BenchSizes = {
  w1: { files: 300, rounds: { warmup: 1, runs: 7 } },
  w2: { files: 300, extraTables: 2000, rounds: { warmup: 2, runs: 15 } },
  w3: { delayMs: 10, rounds: { warmup: 1, runs: 5 } },
  w4: { rounds: { warmup: 2, runs: 15 } },
  w5: { rounds: { warmup: 2, runs: 15 } },
}

/** Tiny sizes that run every workload and contender in seconds (CI, the smoke test). */
export const SMOKE_SIZES: BenchSizes = {
  w1: { files: 5, rounds: { warmup: 0, runs: 1 } },
  w2: { files: 5, extraTables: 20, rounds: { warmup: 0, runs: 1 } },
  w3: { delayMs: 2, rounds: { warmup: 0, runs: 1 } },
  w4: { rounds: { warmup: 0, runs: 1 } },
  w5: { rounds: { warmup: 0, runs: 1 } },
}

/** Everything one run measured. */
export interface BenchReport {
  readonly smoke: boolean
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly machine: Machine
  readonly loadAtStart: string
  readonly loadAtEnd: string
  readonly serverUrl: string
  readonly w1: W1Result
  readonly w2: W2Result
  readonly w3: W3Result
  readonly w4: W4Result
  readonly w5: W5Result
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Admin URL of the (loopback) server. */
  readonly url: string
  readonly smoke?: boolean
  /** Override every workload's measured run count (warm-up kept). */
  readonly runs?: number
  readonly log?: (line: string) => void
}

/** The benchmark's contenders, in the order the tables list them. */
export const CONTENDERS: readonly Contender[] = [ours, kyselyMigrator, postgrator, dbmate, psql, oneQuery]

/**
 * Runs W1–W5 against one server and returns the figures (writes nothing but scratch files).
 *
 * @example
 * ```ts
 * const report = await runBench({ url: 'postgres://postgres@127.0.0.1:55432/postgres', smoke: true })
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const url = new URL(options.url)
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname)) {
    throw new Error(`the benchmark only targets loopback servers, not ${url.hostname}`)
  }
  const smoke = options.smoke ?? false
  const base = smoke ? SMOKE_SIZES : FULL_SIZES
  const sizes = options.runs ? withRuns(base, options.runs) : base
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const admin = new PgAdmin(options.url)
  const workDir = join(
    fileURLToPath(new URL('./.work/', import.meta.url)),
    `${smoke ? 'smoke' : 'full'}-${process.pid}-${Date.now()}`,
  )
  await mkdir(workDir, { recursive: true })
  const ctx: BenchContext = {
    admin,
    workDir,
    smoke,
    log,
    upstream: {
      host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 5432),
    },
  }
  const startedAt = new Date()
  const loadAtStart = loadLine()
  try {
    const machine = await describeMachine(admin)
    log(
      `bench: ${smoke ? 'smoke' : 'full'} run on ${machine.cpu}, ${machine.cores} cores, ${machine.postgres}; load ${loadAtStart}`,
    )
    const w1 = await runW1(ctx, [...CONTENDERS, queryPerFile], sizes.w1)
    const w2 = await runW2(ctx, CONTENDERS, sizes.w2)
    const w3 = await runW3(ctx, CONTENDERS, sizes.w3)
    const w4 = await runW4(ctx, sizes.w4)
    const w5 = await runW5(ctx, sizes.w5)
    return {
      smoke,
      startedAt,
      finishedAt: new Date(),
      machine,
      loadAtStart,
      loadAtEnd: loadLine(),
      serverUrl: redactUrl(options.url),
      w1,
      w2,
      w3,
      w4,
      w5,
    }
  } finally {
    await admin.dropAll()
    await rm(workDir, { recursive: true, force: true })
  }
}

function withRuns(sizes: BenchSizes, runs: number): BenchSizes {
  const r = (rounds: Rounds): Rounds => ({ warmup: rounds.warmup, runs })
  return {
    w1: { ...sizes.w1, rounds: r(sizes.w1.rounds) },
    w2: { ...sizes.w2, rounds: r(sizes.w2.rounds) },
    w3: { ...sizes.w3, rounds: r(sizes.w3.rounds) },
    w4: { rounds: r(sizes.w4.rounds) },
    w5: { rounds: r(sizes.w5.rounds) },
  }
}

function redactUrl(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.toString()
}
