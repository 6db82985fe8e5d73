// The package as an app gets it: packed into a tarball (built by its own prepack), then
// installed with npm into a fresh app folder. Shared by test/consumer.e2e.ts and bench W5.
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * This process's environment with the running Node first on PATH, so that npm, npx and the
 * bins they start (`#!/usr/bin/env node`) run on the same Node as the tests.
 */
export function appEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
  }
  for (const [k, v] of Object.entries(extra))
    if (v === undefined) delete env[k]
    else env[k] = v
  return env
}

/** What a child process printed and returned. */
export interface ProcessRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Options of {@link run}. */
export interface RunOptions {
  readonly cwd: string
  readonly env?: NodeJS.ProcessEnv
  /** Longest the process may run before it is killed. Default 600 000 ms. */
  readonly timeoutMs?: number
}

/**
 * Runs a program to its end with piped output; a non-zero exit is a result, not a throw.
 *
 * @example
 * ```ts
 * const { code, stdout } = await run(process.execPath, ['boot.mjs'], { cwd: app })
 * ```
 */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? appEnv(), timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr })
      },
    )
  })
}

/**
 * Runs npm (the one that ships with the running Node) and throws with its output when it fails.
 *
 * @example
 * ```ts
 * await npm(['install', '--no-audit', tarball], { cwd: app })
 * ```
 */
export async function npm(args: readonly string[], options: RunOptions): Promise<ProcessRun> {
  const result = await run('npm', args, options)
  if (result.code !== 0)
    throw new Error(`npm ${args.join(' ')} failed (${result.code}):\n${result.stdout}\n${result.stderr}`)
  return result
}

// What `npm pack` needs to build the package (see package.json's `build` and `files`).
const PACKAGE_INPUTS = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'src',
  'scripts',
  'migrations',
  'docs',
  'bin',
  'README.md',
  'LICENSE',
]

/**
 * Packs the package as `npm publish` would (its `prepack` builds dist/) into `destination`,
 * and returns the tarball's path. The build runs in a copy of the sources (with this
 * checkout's node_modules linked), so a concurrent test that runs the repository's own
 * dist/ never sees it half rebuilt.
 *
 * @example
 * ```ts
 * const tarball = await packPackage(await mkdtemp(join(tmpdir(), 'pack-')))
 * ```
 */
export async function packPackage(destination: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const source = join(destination, 'source')
  await mkdir(source, { recursive: true })
  for (const entry of PACKAGE_INPUTS) await cp(join(ROOT, entry), join(source, entry), { recursive: true })
  await symlink(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir')
  await npm(['pack', '--pack-destination', destination, '--silent'], { cwd: source, timeoutMs: options.timeoutMs })
  const tarball = (await readdir(destination)).find((name) => name.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack left no tarball in ${destination}`)
  await rm(source, { recursive: true, force: true })
  return join(destination, tarball)
}

/**
 * The version of a package installed in this checkout, so that an app installs the same one
 * (from npm's cache when it can).
 *
 * @example
 * ```ts
 * await installedVersion('typescript') // '5.9.3'
 * ```
 */
export async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string
  }
  return manifest.version
}

/** npm flags for installing into the throwaway apps: quiet, and from the cache when possible. */
export const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'] as const

/**
 * A fresh ESM app folder in the OS temp directory with `files` copied in and a minimal
 * package.json (`extra` merged into it).
 *
 * @example
 * ```ts
 * const app = await createAppFolder('wukong-app-', { 'boot.mjs': '/path/to/boot.mjs' })
 * ```
 */
export async function createAppFolder(
  prefix: string,
  files: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<string> {
  const app = await mkdtemp(join(tmpdir(), prefix))
  await writeFile(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'consumer-app', private: true, type: 'module', ...extra }, null, 2)}\n`,
  )
  for (const [name, from] of Object.entries(files)) await cp(from, join(app, name), { recursive: true })
  return app
}

/**
 * The package's own migrations (names without `.sql`, in order) and the last version: what a
 * fresh database gets from the package's defaults.
 *
 * @example
 * ```ts
 * const { names, latest } = await packageMigrations() // ['001_initial_schema', …], 4
 * ```
 */
export async function packageMigrations(): Promise<{ readonly names: readonly string[]; readonly latest: number }> {
  const files = (await readdir(join(ROOT, 'migrations')))
    .filter((f) => /^\d+_.+\.sql$/.test(f) && !f.endsWith('.down.sql'))
    .sort()
  const names = files.map((f) => f.replace(/\.sql$/, ''))
  return { names, latest: Number.parseInt(names.at(-1) ?? '0', 10) }
}
