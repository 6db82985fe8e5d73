// A Next.js App Router app with zero configuration for this package (`next.config` sets only
// `output: 'standalone'`): it migrates from instrumentation.ts and serves typed queries from a
// route. Installs next and builds; part of `npm run test:e2e` (alone: `npm run test:nextjs`).
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import {
  appEnv,
  createAppFolder,
  INSTALL_FLAGS,
  installedVersion,
  npm,
  packageMigrations,
  packPackage,
  run,
} from '../support/consumer-app.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()

const FIXTURE = fileURLToPath(new URL('./app/', import.meta.url))
// Installing next and building are slow on a loaded machine: bounded, and configurable.
const SETUP_MS = Number(process.env['WUKONG_NEXTJS_TIMEOUT_MS'] ?? 1_200_000)
const BOOT_MS = Number(process.env['WUKONG_NEXTJS_BOOT_MS'] ?? 180_000)
const NEXT_VERSION = process.env['WUKONG_NEXTJS_VERSION'] ?? '16'
const { names: ALL, latest: LATEST } = await packageMigrations()
const UNUSED = ['@electric-sql', '@neondatabase', '@vercel', 'libpg-query', 'ws', 'testcontainers']

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A server process whose output is collected; `line(re)` waits (bounded) for a line matching `re`. */
interface Running {
  readonly child: ChildProcess
  output(): string
  line(re: RegExp): Promise<string>
  stop(): Promise<void>
}

function start(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  const waiters: (() => void)[] = []
  const onData = (b: Buffer): void => {
    text += b.toString('utf8')
    for (const w of waiters.splice(0)) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    output: () => text,
    line(re) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${re} within ${BOOT_MS} ms:\n${text}`)),
          BOOT_MS,
        )
        const check = (): void => {
          const found = text.split('\n').find((l) => re.test(l))
          if (found !== undefined) {
            clearTimeout(timer)
            resolve(found)
          } else if (child.exitCode !== null) {
            clearTimeout(timer)
            reject(new Error(`exited with ${child.exitCode} before a line matching ${re}:\n${text}`))
          } else waiters.push(check)
        }
        check()
        void exited.then(() => waiters.length && check())
      })
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String)
}

describe.skipIf(needsServer(server, 'a Next.js app with zero configuration'))(
  'a Next.js app with zero configuration',
  () => {
    const temps: string[] = []
    const handles: TestDatabaseHandle[] = []
    const running: Running[] = []
    const timings: Record<string, number> = {}
    let app: string

    const freshUrl = async (): Promise<string> => {
      const handle = await server.createDatabase()
      handles.push(handle)
      return handle.url!
    }
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const started = performance.now()
      try {
        return await fn()
      } finally {
        timings[name] = Math.round(performance.now() - started)
      }
    }
    async function boot(
      args: readonly string[],
      cwd: string,
      url: string,
    ): Promise<{ migrated: { applied: string[]; currentVersion: number }; base: string; server: Running }> {
      const port = await freePort()
      const s = start(
        args,
        cwd,
        appEnv({
          POSTGRES_URL: url,
          PORT: String(port),
          HOSTNAME: '127.0.0.1',
          NEXT_TELEMETRY_DISABLED: '1',
          TEST_DATABASE_URL: undefined,
        }),
      )
      running.push(s)
      const line = await s.line(/^wukong-migrations /)
      await s.line(/Ready|started server|Listening|localhost:/i)
      return {
        migrated: JSON.parse(line.replace(/^wukong-migrations /, '')) as { applied: string[]; currentVersion: number },
        base: `http://127.0.0.1:${port}`,
        server: s,
      }
    }

    beforeAll(async () => {
      const packDir = await mkdtemp(join(tmpdir(), 'wukong-next-pack-'))
      temps.push(packDir)
      const tarball = await timed('pack', () => packPackage(packDir, { timeoutMs: SETUP_MS }))
      app = await createAppFolder(
        'wukong-next-',
        Object.fromEntries((await readdir(FIXTURE)).map((n) => [n, join(FIXTURE, n)])),
        {
          scripts: { dev: 'next dev', build: 'next build', start: 'next start' },
        },
      )
      temps.push(app)
      const ts = `typescript@${await installedVersion('typescript')}`
      await timed('install', async () => {
        await npm(
          ['install', ...INSTALL_FLAGS, `next@${NEXT_VERSION}`, 'react@19', 'react-dom@19', tarball, 'kysely', 'pg'],
          { cwd: app, timeoutMs: SETUP_MS },
        )
        await npm(
          ['install', ...INSTALL_FLAGS, '--save-dev', ts, '@types/node@24', '@types/react@19', '@types/react-dom@19'],
          { cwd: app, timeoutMs: SETUP_MS },
        )
      })
    }, SETUP_MS * 2)

    afterAll(async () => {
      await Promise.all(running.map((s) => s.stop()))
      await Promise.all(handles.map((h) => h.destroy().catch(() => {})))
      await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
      console.log(`[nextjs] timings (ms): ${JSON.stringify(timings)}`)
    }, BOOT_MS)

    it(
      'builds with next build (type-check included)',
      async () => {
        const result = await timed('build', () =>
          run(process.execPath, ['node_modules/next/dist/bin/next', 'build'], {
            cwd: app,
            env: appEnv({ NEXT_TELEMETRY_DISABLED: '1' }),
            timeoutMs: SETUP_MS,
          }),
        )
        expect(result.code, result.stdout + result.stderr).toBe(0)
        expect(result.stdout + result.stderr).not.toMatch(/Module not found|Critical dependency|Failed to compile/)
      },
      SETUP_MS,
    )

    it(
      'next start migrates a fresh database and answers typed queries; the second boot is a no-op',
      async () => {
        const url = await freshUrl()
        const first = await timed('first start', () =>
          boot(['node_modules/next/dist/bin/next', 'start', '-H', '127.0.0.1'], app, url),
        )
        expect(first.migrated).toEqual({ applied: ALL, currentVersion: LATEST })
        const created = await fetch(`${first.base}/api/sessions`, {
          method: 'POST',
          body: JSON.stringify({ id: 's1', goal: 'ship it' }),
        })
        expect(await created.json()).toEqual({ id: 's1', status: 'active' })
        await first.server.stop()

        const second = await boot(['node_modules/next/dist/bin/next', 'start', '-H', '127.0.0.1'], app, url)
        expect(second.migrated).toEqual({ applied: [], currentVersion: LATEST })
        const listed = await fetch(`${second.base}/api/sessions`)
        expect(listed.status).toBe(200)
        expect(await listed.json()).toEqual({
          version: LATEST,
          sessions: [{ id: 's1', goal: 'ship it', status: 'active' }],
        })
        await second.server.stop()
      },
      BOOT_MS * 3,
    )

    it(
      'the standalone output boots on its own, without unused drivers in it',
      async () => {
        const standalone = join(app, '.next', 'standalone')
        const modules = await readdir(join(standalone, 'node_modules'))
        expect(modules).toContain('@wukong')
        for (const absent of UNUSED) expect(modules, absent).not.toContain(absent)
        // Every trace Next wrote (what a deploy carries) leaves the unused drivers out.
        const traces = (await listFiles(join(app, '.next', 'server'))).filter((f) => f.endsWith('.nft.json'))
        expect(traces.length).toBeGreaterThan(0)
        for (const trace of traces) {
          const { files } = JSON.parse(await readFile(join(app, '.next', 'server', trace), 'utf8')) as {
            files: string[]
          }
          for (const absent of UNUSED)
            expect(
              files.filter((f) => f.includes(`node_modules/${absent}`)),
              `${trace}: ${absent}`,
            ).toEqual([])
        }

        // Moved away from the app (and its node_modules), as a deploy would run it.
        const moved = await mkdtemp(join(tmpdir(), 'wukong-next-standalone-'))
        temps.push(moved)
        await cp(standalone, moved, { recursive: true, verbatimSymlinks: true })
        const url = await freshUrl()
        const first = await timed('standalone start', () => boot(['server.js'], moved, url))
        expect(first.migrated).toEqual({ applied: ALL, currentVersion: LATEST })
        const listed = await fetch(`${first.base}/api/sessions`)
        expect(await listed.json()).toEqual({ version: LATEST, sessions: [] })
        await first.server.stop()
        const second = await boot(['server.js'], moved, url)
        expect(second.migrated).toEqual({ applied: [], currentVersion: LATEST })
        await second.server.stop()
      },
      BOOT_MS * 3,
    )
  },
)
