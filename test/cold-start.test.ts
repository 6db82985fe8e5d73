import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { LatencyProxy } from '../bench/lib/latency-proxy.js'
import { MigrationRunner } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { BIN, cliEnv, ROOT } from './support/cli-process.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'
import { scratchDir } from './support/scratch.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

// A load hook that lists every package a process loads, printed on exit (`node --import`).
const HOOK = `import { registerHooks } from 'node:module'
const seen = new Set()
registerHooks({ load(url, context, next) {
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url)
  if (m) seen.add(m[1])
  return next(url, context)
} })
process.on('exit', () => process.stderr.write('packages=' + [...seen].sort().join(',') + '\\n'))
process.stderr.write('started pid=' + process.pid + ' flags=' + process.execArgv.filter((a) => a.startsWith('--liftoff')).join(',') + '\\n')
`

/** The packages a process loaded running `args` (the built CLI or a script), and its exit code. */
async function packagesLoaded(args: readonly string[], env: Record<string, string> = {}) {
  const hook = join(await scratchDir('cold-start-'), 'hook.mjs')
  await writeFile(hook, HOOK)
  return new Promise<{
    code: number | null
    packages: string[]
    stdout: string
    starts: { pid: string; flags: string }[]
  }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', hook, ...args],
      { cwd: ROOT, env: cliEnv(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const listed = /^packages=(.*)$/m.exec(stderr)?.[1]
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        const starts = [...stderr.matchAll(/^started pid=(\d+) flags=(.*)$/gm)].map((m) => ({
          pid: m[1]!,
          flags: m[2]!,
        }))
        resolve({ code, stdout, starts, packages: listed ? listed.split(',').filter(Boolean) : [] })
      },
    )
  })
}

/** The built CLI on a new database and a folder of `files` counted files. */
async function cliOnNewDatabase(files: number) {
  const handle = await server.createDatabase()
  handles.push(handle)
  const dir = await migrationFolder(countedFiles(files))
  const url = handle.url!
  return { dir, url, cli: (...args: string[]) => packagesLoaded([BIN, ...args, '--url', url, '--dir', dir]) }
}

describe('a cold start on an up-to-date database loads only the driver', () => {
  it('--version and --help load no package at all, only their text', async () => {
    const version = await packagesLoaded([BIN, '--version'])
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), packages: [] })
    const help = await packagesLoaded([BIN, '--help'])
    expect(help).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Usage: wukong-migrate <command>/),
      packages: [],
    })
    // The same answers as the full command line gives (`--json` goes through it).
    const json = await packagesLoaded([BIN, '--version', '--json'])
    expect(JSON.parse(json.stdout).packageVersion).toBe(version.stdout.trim())
  })

  it.skipIf(needsServer(server, 'the up-to-date CLI commands'))(
    'status, status --check and migrate answer without Kysely or the SQL parser; with work, they load',
    async () => {
      const { dir, cli } = await cliOnNewDatabase(3)
      expect((await cli('migrate')).code).toBe(0)
      for (const args of [['status'], ['status', '--check'], ['migrate']]) {
        const run = await cli(...args)
        expect(run.code, args.join(' ')).toBe(0)
        expect(run.packages, args.join(' ')).not.toContain('kysely')
        expect(run.packages, args.join(' ')).not.toContain('libpg-query')
        expect(run.packages, args.join(' ')).toContain('pg')
      }
      await writeFile(join(dir, '004_more.sql'), 'create table more_rows (id int);\n')
      const pending = await cli('status', '--check')
      expect(pending.code).toBe(3)
      expect(pending.stdout).toMatch(/pending\s+004_more\.sql/)
      expect(pending.packages).toContain('kysely')
    },
  )

  it.skipIf(needsServer(server, 'relaunching under --liftoff-only'))(
    'the bin runs without V8 flags and relaunches itself under --liftoff-only, once, before it parses',
    async () => {
      const { dir, url, cli } = await cliOnNewDatabase(2)
      const flagsOf = (run: Awaited<ReturnType<typeof cli>>) => run.starts.map((s) => s.flags)

      // With work: one process id, the second image under the flag, each line said once.
      const first = await cli('migrate')
      expect(first.code).toBe(0)
      expect(flagsOf(first)).toEqual(['', '--liftoff-only'])
      expect(new Set(first.starts.map((s) => s.pid)).size).toBe(1)
      expect(first.stdout.match(/^Migrating /gm)).toHaveLength(1)
      expect(first.stdout.match(/applied +001_/gm)).toHaveLength(1)

      // Up to date: no relaunch, no flag.
      for (const args of [['migrate'], ['status'], ['status', '--json']]) {
        const run = await cli(...args)
        expect(run.code, args.join(' ')).toBe(0)
        expect(flagsOf(run), args.join(' ')).toEqual([''])
      }
      // Commands that parse relaunch before they write anything, whatever they print.
      await writeFile(join(dir, '003_later.sql'), 'create table later_rows (id int);\n')
      const offline = (...args: string[]) => packagesLoaded([BIN, ...args, '--dir', dir])
      for (const run of [await cli('plan'), await offline('verify')]) {
        expect(flagsOf(run), run.stdout).toEqual(['', '--liftoff-only'])
        expect(run.stdout).toMatch(/003_later/)
        const lines = run.stdout.split('\n').filter(Boolean)
        expect(new Set(lines).size, run.stdout).toBe(lines.length)
      }
      const json = await cli('status', '--check', '--json')
      expect(flagsOf(json)).toEqual(['', '--liftoff-only'])
      expect(JSON.parse(json.stdout)).toMatchObject({ command: 'status' })
      expect(JSON.parse((await cli('status', '--json')).stdout)).toMatchObject({ command: 'status' })
      // A process started under the flag (the npm scripts) never relaunches.
      const flagged = await packagesLoaded(['--liftoff-only', BIN, 'plan', '--url', url, '--dir', dir])
      expect(flagsOf(flagged)).toEqual(['--liftoff-only'])
    },
  )
})

describe.skipIf(needsServer(server, 'the boot check hands over'))('the boot check and the engine', () => {
  it('status from the boot check is the engine status, and a database with work keeps the one connection', async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const dir = await migrationFolder(countedFiles(3))
    const direct = new URL(handle.url!)
    const proxy = await LatencyProxy.start({
      upstreamHost: direct.hostname,
      upstreamPort: Number(direct.port || 5432),
      delayMs: 0,
    })
    try {
      const url = proxy.urlFor(direct.href)
      const runner = (folder = dir) => new MigrationRunner({ url, migrationFolder: folder, log: () => {} })
      const first = runner()
      proxy.reset()
      expect((await first.migrate()).results).toHaveLength(3)
      await first.close()
      // The check found work and handed its connection on: one startup for the whole run.
      expect(proxy.counts().startups).toBe(1)

      proxy.reset()
      const front = runner()
      const status = await front.status()
      await front.close()
      expect(proxy.counts()).toMatchObject({ startups: 1, queries: 1 })
      // The engine's own status (a given db skips the boot check), word for word.
      const engine = new MigrationRunner({ db: handle.db, migrationFolder: dir })
      expect(status).toEqual(await engine.status())
      expect(status.isUpToDate).toBe(true)
      expect(status.applied.map((a) => a.fileName)).toHaveLength(3)
    } finally {
      await proxy.close()
    }
  })
})
