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
`

/** The packages a process loaded running `args` (the built CLI or a script), and its exit code. */
async function packagesLoaded(args: readonly string[], env: Record<string, string> = {}) {
  const hook = join(await scratchDir('cold-start-'), 'hook.mjs')
  await writeFile(hook, HOOK)
  return new Promise<{ code: number | null; packages: string[]; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', hook, ...args],
      { cwd: ROOT, env: cliEnv(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const listed = /^packages=(.*)$/m.exec(stderr)?.[1]
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, packages: listed ? listed.split(',').filter(Boolean) : [] })
      },
    )
  })
}

describe('a cold start on an up-to-date database loads only the driver', () => {
  it('--version and --help load no package at all, only their text', async () => {
    const version = await packagesLoaded([BIN, '--version'])
    expect(version).toEqual({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), packages: [] })
    const help = await packagesLoaded([BIN, '--help'])
    expect(help).toEqual({ code: 0, stdout: expect.stringMatching(/^Usage: wukong-migrate <command>/), packages: [] })
    // The same answers as the full command line gives (`--json` goes through it).
    const json = await packagesLoaded([BIN, '--version', '--json'])
    expect(JSON.parse(json.stdout).packageVersion).toBe(version.stdout.trim())
  })

  it.skipIf(needsServer(server, 'the up-to-date CLI commands'))(
    'status, status --check and migrate answer without Kysely or the SQL parser; with work, they load',
    async () => {
      const handle = await server.createDatabase()
      handles.push(handle)
      const dir = await migrationFolder(countedFiles(3))
      const cli = (...args: string[]) => packagesLoaded([BIN, ...args, '--url', handle.url!, '--dir', dir])
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
