import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stripVTControlCharacters } from 'node:util'

import { scratchDir } from './scratch.js'

/** The package's bin: what `npx wukong-migrate` runs. */
export const BIN = fileURLToPath(new URL('../../bin/wukong-migrate.js', import.meta.url))
/** The repository root (tsx resolves from here for `node --import tsx`). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

// Variables that would change which database or colours a run uses: every test sets its own.
const SCRUBBED = [
  'POSTGRES_URL_NON_POOLING',
  'DATABASE_URL_UNPOOLED',
  'POSTGRES_URL',
  'POSTGRES_PRISMA_URL',
  'TEST_DATABASE_URL',
  'WUKONG_PGLITE_DIR',
  'WUKONG_MIGRATIONS_DIR',
  'NO_COLOR',
  'FORCE_COLOR',
  'DATABASE_URL',
  'NODE_ENV',
  'VERCEL',
  'VERCEL_ENV',
]

/** The environment of a CLI run: this process's, without database or colour settings, plus `extra`. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of SCRUBBED) delete env[name]
  for (const [k, v] of Object.entries(extra))
    if (v === undefined) delete env[k]
    else env[k] = v
  return env
}

/**
 * Runs `wukong-migrate` (the bin) as a subprocess with piped output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await cli(['status', '--json', '--url', url, '--dir', folder])
 * ```
 */
export function cli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; command?: readonly string[] } = {},
): Promise<CliRun> {
  // As the bin's shebang runs it (plain `node`), without depending on PATH.
  const [file, ...pre] = options.command ?? [process.execPath, BIN]
  return new Promise((resolve) => {
    execFile(
      file!,
      [...pre, ...args],
      { cwd: options.cwd ?? ROOT, env: cliEnv(options.env), timeout: 110_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A process started by {@link startProcess}: its output so far, and ways to wait on it. */
export interface RunningProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** stdout and stderr so far. */
  output(): { readonly stdout: string; readonly stderr: string }
  /** Resolves with stdout once it matches `pattern`; rejects if the process ends first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Ends stdin (the helper children take that as "let go"). */
  closeStdin(): void
  /** Resolves when the process has ended, with its exit code or signal and all its output. */
  readonly exited: Promise<CliRun & { readonly signal: NodeJS.Signals | null }>
}

/**
 * Starts a process with piped stdio (stdin kept open), killing it after `timeoutMs` (a bound,
 * never an expectation).
 *
 * @example
 * ```ts
 * const holder = startProcess(process.execPath, ['--import', 'tsx', 'test/support/embedded-holder.ts', dir])
 * await holder.waitFor(/^open /m)
 * ```
 */
export function startProcess(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): RunningProcess {
  const child = spawn(file, [...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin!.on('error', () => {})
  const watchdog = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000)
  const exited = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(watchdog)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    child,
    pid: child.pid!,
    output: () => ({ stdout, stderr }),
    closeStdin: () => child.stdin!.end(),
    exited,
    waitFor(pattern, timeoutMs = 100_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout)) return false
          done()
          resolve(stdout)
          return true
        }
        const onEnd = () => {
          if (check()) return
          done()
          reject(
            new Error(`process ${child.pid} ended before printing ${pattern}:\n${stdout}\n--- stderr ---\n${stderr}`),
          )
        }
        const timer = setTimeout(() => {
          done()
          reject(
            new Error(
              `process ${child.pid} did not print ${pattern} in ${timeoutMs} ms:\n${stdout}\n--- stderr ---\n${stderr}`,
            ),
          )
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          child.stdout!.off('data', check)
          child.off('close', onEnd)
        }
        if (check()) return
        child.stdout!.on('data', check)
        child.once('close', onEnd)
      })
    },
  }
}

/**
 * Starts `wukong-migrate` (the bin) without waiting for it, e.g. to run two at once or to
 * kill one mid-run.
 *
 * @example
 * ```ts
 * const run = startCli(['migrate', '--dir', folder], { cwd })
 * await run.waitFor(/applied +001_/)
 * run.child.kill('SIGKILL')
 * ```
 */
export function startCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): RunningProcess {
  return startProcess(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
  })
}

/**
 * Runs `wukong-migrate` on a pseudo-terminal through util-linux `script`, so stdout and stderr
 * are TTYs. The output is both streams together, with CRLF line ends.
 *
 * @example
 * ```ts
 * const { output } = await cliOnTerminal(['status', '--dir', folder], { POSTGRES_URL: url })
 * ```
 */
export async function cliOnTerminal(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ')
  const run = await cli(['-qfec', command, '/dev/null'], {
    env: { TERM: 'xterm-256color', ...env },
    command: ['script'],
  })
  return { code: run.code, output: run.stdout + run.stderr }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * A throwaway migration folder, removed when the test file ends (the tests never use the
 * package's own `migrations/`).
 *
 * @example
 * ```ts
 * const dir = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
 * ```
 */
export async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await scratchDir('wk-cli-')
  await Promise.all(Object.entries(files).map(([name, body]) => writeFile(join(dir, name), body)))
  return dir
}

/** Parses a `--json` run's stdout, failing with the whole output when it is not one document. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`not one JSON document on stdout (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`)
  }
}

/** Strips ANSI colour codes. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return stripVTControlCharacters(text).replace(/\r\n/g, '\n')
}
