// The packed tarball as a registry would serve it: it installs beside the oldest and the newest
// version of every optional peer range it declares (one `npm install --dry-run` each), and
// every relative link of its Markdown files leads to a file inside it.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createAppFolder, INSTALL_FLAGS, npm, packPackage, run } from './support/consumer-app.js'

const ROOT = new URL('..', import.meta.url)
const SETUP_MS = Number(process.env['WUKONG_CONSUMER_TIMEOUT_MS'] ?? 900_000)
const STEP_MS = Math.min(SETUP_MS, 300_000)

const manifest = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as {
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}
const OPTIONAL = Object.keys(manifest.peerDependenciesMeta).filter((n) => manifest.peerDependenciesMeta[n]?.optional)
const PGLITE = '@electric-sql/pglite'
const PGVECTOR = '@electric-sql/pglite-pgvector'

/** The published versions a range accepts, oldest first (one registry look-up). */
async function versionsIn(name: string, range: string): Promise<string[]> {
  const { stdout } = await npm(['view', `${name}@${range}`, 'version', '--json'], { cwd: tmpdir(), timeoutMs: STEP_MS })
  const parsed = JSON.parse(stdout) as string | string[]
  return Array.isArray(parsed) ? parsed : [parsed]
}

/** Unpacks the tarball into `dir` and lists its files (`package/…`). */
function unpack(tarball: string, dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-xvzf', tarball, '-C', dir], { maxBuffer: 16 << 20 }, (error, stdout) => {
      if (error) reject(error)
      else resolve(stdout.split('\n').filter((l) => l.startsWith('package/') && !l.endsWith('/')))
    })
  })
}

describe('the packed tarball', () => {
  const temps: string[] = []
  let tarball: string

  beforeAll(async () => {
    const packDir = await mkdtemp(join(tmpdir(), 'wukong-pack-'))
    temps.push(packDir)
    tarball = await packPackage(packDir, { timeoutMs: SETUP_MS })
  }, SETUP_MS)
  afterAll(async () => {
    await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
  }, STEP_MS)

  /** `npm install --dry-run <tarball> kysely pg …specs` in a fresh app: its exit and output. */
  async function dryRun(specs: readonly string[]): Promise<{ code: number | null; output: string }> {
    const app = await createAppFolder('wukong-peers-')
    temps.push(app)
    const args = ['install', '--dry-run', ...INSTALL_FLAGS, tarball, 'kysely', 'pg', ...specs]
    const result = await run('npm', args, { cwd: app, timeoutMs: STEP_MS })
    return { code: result.code, output: `${result.stdout}\n${result.stderr}` }
  }

  it('declares the drivers as optional peers', () => {
    expect(OPTIONAL).toEqual(expect.arrayContaining([PGLITE, PGVECTOR, '@neondatabase/serverless', 'ws']))
  })

  it(
    "installs beside the oldest and the newest version of each optional peer's range",
    async () => {
      const oldest: string[] = []
      const newest: string[] = []
      for (const name of OPTIONAL) {
        const versions = await versionsIn(name, manifest.peerDependencies[name]!)
        expect(versions.length, name).toBeGreaterThan(0)
        oldest.push(`${name}@${versions[0]}`)
        newest.push(`${name}@${versions.at(-1)}`)
      }
      const isPgvector = (spec: string) => spec.startsWith(`${PGVECTOR}@`)
      const combinations = [
        oldest,
        // Each PGlite-pgvector release asks for the one exact PGlite it was built for (none
        // for PGlite 0.6 yet): its newest is tried on its own, and npm brings that PGlite.
        newest.filter((s) => !isPgvector(s)),
        newest.filter(isPgvector),
        // What an app on current versions runs.
        ['@neondatabase/serverless@latest', `${PGLITE}@latest`],
      ]
      for (const specs of combinations) {
        const { code, output } = await dryRun(specs)
        expect(output, specs.join(' ')).not.toMatch(/ERESOLVE/)
        expect(code, `${specs.join(' ')}\n${output}`).toBe(0)
        expect(output).toMatch(/add kysely 0\.29\./)
      }
    },
    SETUP_MS,
  )

  it('every relative link of its Markdown files leads to a file it ships', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wukong-unpacked-'))
    temps.push(dir)
    const files = new Set(await unpack(tarball, dir))
    const markdown = [...files].filter((f) => f.endsWith('.md'))
    expect(markdown).toEqual(expect.arrayContaining(['package/README.md', 'package/docs/vercel.md']))
    const broken: string[] = []
    for (const file of markdown) {
      const text = await readFile(join(dir, file), 'utf8')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target!) || target!.startsWith('#')) continue
        const path = posix.normalize(posix.join(posix.dirname(file), target!.split('#')[0]!))
        if (!files.has(path)) broken.push(`${file.slice('package/'.length)}: ${target}`)
      }
    }
    expect(broken).toEqual([])
  })
})
