// The package as an app uses it: packed, installed from the tarball into a fresh ESM app with
// `npm install <tarball> kysely pg`, and run with plain `node` (no tsx, no TypeScript loader).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import {
  appEnv,
  createAppFolder,
  INSTALL_FLAGS,
  installedVersion,
  npm,
  packageMigrations,
  packPackage,
  run,
  type ProcessRun,
} from './support/consumer-app.js'
import { startWsProxy, type WsProxy } from './support/ws-proxy.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()

const FIXTURE = fileURLToPath(new URL('./consumer/app/', import.meta.url))
// Packing builds the package and installing fetches from the registry (or npm's cache): bounded,
// and generous on a loaded machine. WUKONG_CONSUMER_TIMEOUT_MS overrides it.
const SETUP_MS = Number(process.env['WUKONG_CONSUMER_TIMEOUT_MS'] ?? 900_000)
const STEP_MS = Math.min(SETUP_MS, 300_000)
const { names: ALL, latest: LATEST } = await packageMigrations()

/** The npm `overrides` an app needs for @vercel/postgres-kysely (its peer range stops at kysely 0.27). */
const VERCEL_OVERRIDES = { '@vercel/postgres-kysely': { kysely: '$kysely' } }

function ok(result: ProcessRun): ProcessRun {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr}`)
  return result
}

function lastJson<T>(result: ProcessRun): T {
  const line = ok(result).stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as T
}

describe.skipIf(needsServer(server, 'the packed package in an app, on plain node'))(
  'the packed package in an app, on plain node',
  () => {
    const temps: string[] = []
    const handles: TestDatabaseHandle[] = []
    let tarball: string
    let app: string
    let install: ProcessRun

    const node = (
      args: readonly string[],
      env: Record<string, string | undefined> = {},
      cwd = app,
    ): Promise<ProcessRun> =>
      run(process.execPath, args, { cwd, env: appEnv({ TEST_DATABASE_URL: undefined, ...env }), timeoutMs: STEP_MS })
    const freshUrl = async (): Promise<string> => {
      const handle = await server.createDatabase()
      handles.push(handle)
      return handle.url!
    }

    beforeAll(async () => {
      const packDir = await mkdtemp(join(tmpdir(), 'wukong-pack-'))
      temps.push(packDir)
      tarball = await packPackage(packDir, { timeoutMs: SETUP_MS })
      app = await createAppFolder(
        'wukong-consumer-',
        Object.fromEntries((await readdir(FIXTURE)).map((name) => [name, join(FIXTURE, name)])),
      )
      temps.push(app)
      // The README's install line, as an app runs it (bare names: npm picks the versions), plus
      // the tools this suite drives from inside the app, at the versions this checkout uses.
      const tools = await Promise.all(
        ['typescript', 'vitest', 'esbuild', '@types/node'].map(
          async (name) => `${name}@${await installedVersion(name)}`,
        ),
      )
      install = await npm(['install', ...INSTALL_FLAGS, tarball, 'kysely', 'pg'], { cwd: app, timeoutMs: SETUP_MS })
      await npm(['install', ...INSTALL_FLAGS, '--save-dev', ...tools], { cwd: app, timeoutMs: SETUP_MS })
    }, SETUP_MS * 2)

    afterAll(async () => {
      await Promise.all(handles.map((h) => h.destroy().catch(() => {})))
      await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
    }, STEP_MS)

    it('installs with `npm install <package> kysely pg`: one kysely, no peer conflicts, no drivers', async () => {
      expect(install.stderr).not.toMatch(/ERESOLVE|peer dep/i)
      const ls = await run('npm', ['ls', '--all'], { cwd: app, timeoutMs: STEP_MS })
      expect(ls.code, ls.stderr).toBe(0)
      expect(ls.stdout.match(/kysely@/g)?.length ?? 0).toBeGreaterThan(0)
      expect(ls.stdout).not.toMatch(/invalid|UNMET DEPENDENCY|UNMET PEER/)
      const { version } = JSON.parse(await readFile(join(app, 'node_modules/kysely/package.json'), 'utf8')) as {
        version: string
      }
      expect(version).toMatch(/^0\.29\./)
      const installed = await readdir(join(app, 'node_modules'))
      for (const absent of ['@electric-sql', '@neondatabase', '@vercel', 'tsx', 'testcontainers'])
        expect(installed).not.toContain(absent)
    })

    it('migrates a fresh database at boot with MigrationRunner; the second boot is a no-op', async () => {
      const url = await freshUrl()
      const first = lastJson<{ applied: string[]; currentVersion: number }>(
        await node(['boot.mjs'], { DATABASE_URL: url }),
      )
      expect(first).toEqual({ applied: ALL.map((n) => `${n}:applied`), currentVersion: LATEST })
      const second = lastJson<{ applied: string[]; currentVersion: number }>(
        await node(['boot.mjs'], { DATABASE_URL: url }),
      )
      expect(second).toEqual({ applied: [], currentVersion: LATEST })
    })

    it("migrates the app's own files as a set of their own beside the package's; a second boot does nothing", async () => {
      const url = await freshUrl()
      type Report = { applied: string[]; currentVersion: number; otherSets: string[] }[]
      const first = lastJson<Report>(await node(['boot-sets.mjs'], { DATABASE_URL: url }))
      expect(first).toEqual([
        { applied: ALL, currentVersion: LATEST, otherSets: ['app_migrations'] },
        { applied: ['001_session_tags'], currentVersion: 1, otherSets: [] },
      ])
      const second = lastJson<Report>(await node(['boot-sets.mjs'], { DATABASE_URL: url }))
      expect(second.map((s) => s.applied)).toEqual([[], []])
    })

    it("migrates with Kysely's Migrator and the provider's defaults; the runner then finds nothing to do", async () => {
      const url = await freshUrl()
      const first = lastJson<{ results: string[] }>(await node(['migrator.mjs'], { DATABASE_URL: url }))
      expect(first.results).toEqual(ALL.map((n) => `${n}:Success`))
      expect(lastJson<{ results: string[] }>(await node(['migrator.mjs'], { DATABASE_URL: url })).results).toEqual([])
      expect(lastJson<{ applied: string[] }>(await node(['boot.mjs'], { DATABASE_URL: url })).applied).toEqual([])
    })

    it('answers typed queries on the migrated schema', async () => {
      const url = await freshUrl()
      ok(await node(['boot.mjs'], { DATABASE_URL: url }))
      const out = lastJson<{ session: Record<string, unknown>; steps: Record<string, unknown>[] }>(
        await node(['queries.mjs'], { DATABASE_URL: url }),
      )
      expect(out.session).toEqual({ id: 's1', goal: 'write a poem', status: 'active', depth: 0 })
      expect(out.steps).toEqual([
        { step_number: 1, action: 'think', status: 'pending' },
        { step_number: 2, action: 'answer', status: 'completed' },
      ])
    })

    it("runs the app's own vitest suite on @wukong/adapter-vercel/testing", async () => {
      const result = await node(['node_modules/vitest/vitest.mjs', 'run', 'fixtures.test.mjs', '--reporter=verbose'], {
        TEST_DATABASE_URL: server.adminUrl,
        CI: 'true',
        NO_COLOR: '1',
        FORCE_COLOR: undefined,
      })
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
      expect(result.stdout).toMatch(/Tests\s+3 passed/)
    })

    it('runs the CLI through the installed bin (npx wukong-migrate)', async () => {
      const url = await freshUrl()
      const npx = (args: readonly string[]): Promise<ProcessRun> =>
        run('npx', ['--no-install', 'wukong-migrate', ...args], { cwd: app, env: appEnv(), timeoutMs: STEP_MS })
      const before = ok(await npx(['status', '--url', url]))
      expect(before.stdout).toMatch(/pending\s+001_initial_schema\.sql/)
      expect((await npx(['status', '--check', '--url', url])).code).toBe(3) // not up to date
      ok(await npx(['migrate', '--url', url]))
      const status = ok(await npx(['status', '--url', url]))
      expect(status.stdout).toContain(`Up to date: the database is at version ${LATEST}`)
      const json = JSON.parse(ok(await npx(['status', '--json', '--url', url])).stdout) as {
        ok: boolean
        currentVersion: number
        isUpToDate: boolean
        applied: unknown[]
      }
      expect(json).toMatchObject({ ok: true, currentVersion: LATEST, isUpToDate: true })
      expect(json.applied).toHaveLength(ALL.length)
    })

    it('takes the database from DATABASE_URL, and refuses the embedded fallback where the process looks like production', async () => {
      const url = await freshUrl()
      const noUrls = { POSTGRES_URL_NON_POOLING: undefined, POSTGRES_URL: undefined, POSTGRES_PRISMA_URL: undefined }
      const booted = await node(['boot-env.mjs'], { ...noUrls, DATABASE_URL: url })
      expect(lastJson<{ currentVersion: number }>(booted).currentVersion).toBe(LATEST)
      expect(booted.stderr).toContain('Using the database from DATABASE_URL')
      for (const production of [{ NODE_ENV: 'production' }, { VERCEL: '1' }, { VERCEL_ENV: 'preview' }]) {
        const refused = await node(['boot-env.mjs'], { ...noUrls, DATABASE_URL: undefined, ...production })
        expect(refused.code, refused.stdout).toBe(1)
        expect(refused.stderr).toMatch(/^NO_DATABASE_URL: /)
      }
      // Nothing embedded was created in the app's folder by the refused boots.
      expect(await readdir(app)).not.toContain('.wukong')
    })

    it('the installed CLI: --version, .env in the working directory, and a piped status that ends quietly', async () => {
      const url = await freshUrl()
      const bin = join(app, 'node_modules', '.bin', 'wukong-migrate')
      const { version } = JSON.parse(
        await readFile(join(app, 'node_modules/@wukong/adapter-vercel/package.json'), 'utf8'),
      ) as { version: string }
      expect(ok(await run(bin, ['--version'], { cwd: app, env: appEnv(), timeoutMs: STEP_MS })).stdout).toBe(
        `${version}\n`,
      )
      const project = await mkdtemp(join(tmpdir(), 'wukong-dotenv-'))
      temps.push(project)
      await writeFile(join(project, '.env'), `DATABASE_URL=${url}\n`)
      const env = appEnv({
        DATABASE_URL: undefined,
        POSTGRES_URL_NON_POOLING: undefined,
        POSTGRES_URL: undefined,
        POSTGRES_PRISMA_URL: undefined,
      })
      const migrated = ok(await run(bin, ['migrate'], { cwd: project, env, timeoutMs: STEP_MS }))
      expect(migrated.stdout).toContain('DATABASE_URL')
      const piped = await run('sh', ['-c', `"${bin}" status | head -1`], { cwd: project, env, timeoutMs: STEP_MS })
      expect(piped.code).toBe(0)
      expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1)
      expect(piped.stderr).toBe('')
    })

    it('bundles with esbuild into one file that migrates from a folder without the package', async () => {
      const out = await mkdtemp(join(tmpdir(), 'wukong-bundled-'))
      temps.push(out)
      const meta = join(app, 'meta.json')
      ok(
        await run(
          join(app, 'node_modules/.bin/esbuild'),
          [
            'bundle-entry.mjs',
            '--bundle',
            '--platform=node',
            '--format=esm',
            // pg and kysely are CommonJS-free ESM/CJS mixes esbuild handles; pg's optional native
            // binding is the one thing left out (pg requires it only when asked for).
            '--external:pg-native',
            "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
            `--outfile=${join(out, 'app.mjs')}`,
            `--metafile=${meta}`,
          ],
          { cwd: app, env: appEnv(), timeoutMs: STEP_MS },
        ),
      )
      const inputs = Object.keys(
        (JSON.parse(await readFile(meta, 'utf8')) as { inputs: Record<string, unknown> }).inputs,
      )
      expect(inputs.some((i) => i.includes('node_modules/@wukong/adapter-vercel/dist/'))).toBe(true)
      // The package's migrations travel inside the bundle, as code.
      expect(await readFile(join(out, 'app.mjs'), 'utf8')).toContain('CREATE TABLE IF NOT EXISTS sessions')
      for (const absent of ['libpg-query', '@electric-sql', '@neondatabase', '@vercel'])
        expect(inputs.filter((i) => i.includes(absent))).toEqual([])
      expect(await readdir(out)).toEqual(['app.mjs'])

      const url = await freshUrl()
      const first = lastJson<{ applied: string[]; currentVersion: number; source: string }>(
        await node(['app.mjs'], { POSTGRES_URL: url }, out),
      )
      expect(first).toEqual({ applied: ALL.map((n) => `${n}:applied`), currentVersion: LATEST, source: 'POSTGRES_URL' })
      expect(lastJson<{ applied: string[] }>(await node(['app.mjs'], { POSTGRES_URL: url }, out)).applied).toEqual([])
    })

    it('hands the runner and the Migrator the db of @vercel/postgres-kysely (npm overrides for kysely 0.29)', async () => {
      const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as Record<string, unknown>
      await writeFile(
        join(app, 'package.json'),
        `${JSON.stringify({ ...manifest, overrides: VERCEL_OVERRIDES }, null, 2)}\n`,
      )
      const added = await npm(['install', ...INSTALL_FLAGS, '@vercel/postgres-kysely', 'ws'], {
        cwd: app,
        timeoutMs: SETUP_MS,
      })
      expect(added.stderr).not.toMatch(/ERESOLVE|peer dep/i)
      const ls = await run('npm', ['ls', '--all'], { cwd: app, timeoutMs: STEP_MS })
      expect(ls.code, ls.stdout + ls.stderr).toBe(0)
      // One kysely in the whole tree: the app's, which @vercel/postgres-kysely now uses too.
      expect(
        (await run('npm', ['ls', 'kysely', '--all', '--parseable'], { cwd: app, timeoutMs: STEP_MS })).stdout
          .trim()
          .split('\n'),
      ).toEqual([join(app, 'node_modules/kysely')])

      const proxy: WsProxy = await startWsProxy()
      try {
        for (const mode of ['runner', 'migrator'] as const) {
          const url = new URL(await freshUrl())
          url.hostname = 'localhost' // what @vercel/postgres accepts besides a -pooler. host
          const env = { DATABASE_URL: url.toString(), WS_PROXY_PORT: String(proxy.port) }
          const first = lastJson<Record<string, unknown>>(await node(['vercel.mjs', mode], env))
          expect(first).toMatchObject(
            mode === 'runner'
              ? { applied: ALL.map((n) => `${n}:applied`), currentVersion: LATEST }
              : { results: ALL.map((n) => `${n}:Success`) },
          )
          const second = lastJson<Record<string, unknown>>(await node(['vercel.mjs', mode], env))
          expect(second).toMatchObject(
            mode === 'runner' ? { applied: [], currentVersion: LATEST, sessions: 2 } : { results: [], sessions: 2 },
          )
        }
      } finally {
        await proxy.stop()
      }
    })

    // After the vercel install, so that src/vercel-app.ts has its driver to compile against.
    for (const config of ['bundler', 'nodenext'] as const) {
      for (const skipLibCheck of [false, true]) {
        it(`type-checks app code with tsc (moduleResolution ${config}, skipLibCheck ${skipLibCheck})`, async () => {
          const result = await node([
            'node_modules/typescript/bin/tsc',
            '-p',
            `tsconfig.${config}.json`,
            '--skipLibCheck',
            String(skipLibCheck),
          ])
          expect(result.stdout + result.stderr).toBe('')
          expect(result.code).toBe(0)
        })
      }
    }

    it('passes publint and attw --profile esm-only on the tarball', async () => {
      const root = fileURLToPath(new URL('..', import.meta.url))
      const unpacked = await mkdtemp(join(tmpdir(), 'wukong-unpacked-'))
      temps.push(unpacked)
      ok(await run('tar', ['-xzf', tarball, '-C', unpacked], { cwd: unpacked }))
      const publint = await node(
        [
          join(root, 'node_modules/publint/src/cli.js'),
          'run',
          join(unpacked, 'package'),
          '--pack',
          'false',
          '--strict',
        ],
        {},
        root,
      )
      expect(publint.code, publint.stdout + publint.stderr).toBe(0)
      const attw = await node(
        [
          join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'),
          tarball,
          '--profile',
          'esm-only',
          '--format',
          'ascii',
        ],
        {},
        root,
      )
      expect(attw.code, attw.stdout + attw.stderr).toBe(0)
    })
  },
)
