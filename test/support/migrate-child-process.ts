import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { ChildConfig, ChildEvent } from './migrate-child.js'

export type { ChildConfig, ChildEvent } from './migrate-child.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const CHILD = fileURLToPath(new URL('./migrate-child.ts', import.meta.url))

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly events: readonly ChildEvent[]
  readonly stderr: string
  /** True when the parent's hard time limit killed it (a hang). */
  readonly timedOut: boolean
}

/** A running migrate-child.ts. */
export interface MigrateChild {
  readonly process: ChildProcess
  readonly events: readonly ChildEvent[]
  /** Resolves with the first event of this kind (rejects if the child exits first). */
  waitFor(kind: ChildEvent['event']): Promise<ChildEvent>
  /** Lets a `barrier` child start migrating. */
  release(): void
  readonly exited: Promise<ChildExit>
}

const BUILD_DIR = fileURLToPath(new URL('../reliability/.results/.build', import.meta.url))
let bundled: Promise<string | undefined> | undefined

/**
 * migrate-child.ts and the package's sources as one ESM file (dependencies stay imports), built
 * once per test process with esbuild (tsx's own compiler). A child then starts in about half
 * the CPU time of `--import tsx`, which matters with 16 children per round on 2 cores.
 * Undefined when esbuild cannot be loaded: children then run through tsx.
 */
function childBundle(): Promise<string | undefined> {
  bundled ??= (async () => {
    try {
      const esbuild = (await import('esbuild')) as typeof import('esbuild')
      await mkdir(BUILD_DIR, { recursive: true })
      const out = join(BUILD_DIR, 'migrate-child.mjs')
      const temp = `${out}.${process.pid}.tmp.mjs`
      await esbuild.build({
        entryPoints: [CHILD],
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        outfile: temp,
        logLevel: 'silent',
      })
      await rename(temp, out) // atomic: suites in parallel workers may build at once
      return out
    } catch {
      return undefined
    }
  })()
  return bundled
}

/**
 * Starts test/support/migrate-child.ts in its own Node process, and resolves once it runs.
 *
 * `--liftoff-only`: V8 otherwise recompiles libpg-query's 1.1 MB WASM with TurboFan on
 * background threads, which costs a short-lived process about 1.5 s of CPU at exit; with 16
 * processes per round on 2 cores that, not the database, would dominate the suite.
 */
export async function startMigrateChild(
  config: ChildConfig,
  options: { readonly timeoutMs?: number } = {},
): Promise<MigrateChild> {
  const bundle = await childBundle()
  return spawnMigrateChild(config, { ...options, entry: bundle })
}

/** {@link startMigrateChild} with the entry point chosen: a bundle, else the TypeScript through tsx. */
export function spawnMigrateChild(
  config: ChildConfig,
  options: { readonly timeoutMs?: number; readonly entry?: string } = {},
): MigrateChild {
  const entry = options.entry ? [options.entry] : ['--import', 'tsx', CHILD]
  const child = spawn(process.execPath, ['--liftoff-only', ...entry, JSON.stringify(config)], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  const events: ChildEvent[] = []
  const waiters: { kind: ChildEvent['event']; resolve: (e: ChildEvent) => void; reject: (e: Error) => void }[] = []
  let stderr = ''
  let buffered = ''
  let timedOut = false
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (!line.startsWith('{')) continue
      const event = JSON.parse(line) as ChildEvent
      events.push(event)
      for (const w of waiters.filter((w) => w.kind === event.event)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(event)
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdin!.on('error', () => {}) // a killed child closes its end
  const limit = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(limit)
      // 'exit' may come before stdout is drained; 'close' comes after both.
      child.on('close', () => {
        for (const w of waiters.splice(0))
          w.reject(new Error(`child exited (${code ?? signal}) before "${w.kind}"; stderr: ${stderr.slice(-2000)}`))
        resolve({ code, signal, events, stderr, timedOut })
      })
    })
  })
  return {
    process: child,
    events,
    exited,
    waitFor(kind) {
      const seen = events.find((e) => e.event === kind)
      if (seen) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`child already exited before "${kind}"; stderr: ${stderr.slice(-2000)}`))
      }
      return new Promise((resolve, reject) => waiters.push({ kind, resolve, reject }))
    },
    release() {
      child.stdin!.write('go\n')
    },
  }
}
