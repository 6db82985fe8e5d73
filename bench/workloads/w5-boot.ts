import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { appEnv, createAppFolder, INSTALL_FLAGS, npm, packPackage } from '../../test/support/consumer-app.js'
import type { BenchContext, Rounds, TimedRow } from '../lib/context.js'
import { dbmateBinary } from '../lib/dbmate-binary.js'
import { wukongMigrations, writeMigrationFolders } from '../lib/migration-sets.js'
import { run } from '../lib/spawn.js'
import { rotation, summarize } from '../lib/stats.js'

/** W5's outcome. */
export interface W5Result {
  readonly rounds: Rounds
  /** `ours`, `kysely`, `floor`, the command lines (`cli-*`, `psql`, `dbmate-*`), then diagnostics (`*-import`). */
  readonly rows: readonly (TimedRow & { readonly diagnostic: boolean; readonly modules?: number })[]
  /** Versions the app installed. */
  readonly versions: Readonly<Record<string, string>>
}

const MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url))

// The consumer app's scripts: each is a whole process, timed from spawn to exit.
const SCRIPTS = {
  // An app's boot with the package: new MigrationRunner().migrate(), then close.
  'ours.mjs': `import { MigrationRunner } from '@wukong/adapter-vercel'
const runner = new MigrationRunner({ url: process.env.DATABASE_URL })
const { results } = await runner.migrate()
await runner.close()
if (results.length !== 0) throw new Error('not up to date')
`,
  // The same boot with Kysely's own Migrator: migrations held in memory (as a bundled app
  // would), each running its file's SQL as written.
  'kysely.mjs': `import { Kysely, PostgresDialect, sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import pg from 'pg'
import { FILES } from './files.mjs'
const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }) })
const provider = { async getMigrations() { return Object.fromEntries(FILES.map((f) => [f.name, { up: (db) => sql.raw(f.text).execute(db) }])) } }
const { error, results } = await new Migrator({ db, provider }).migrateToLatest()
await db.destroy()
if (error) throw error
if (results.length !== 0) throw new Error('not up to date')
`,
  // The floor: node, pg, one connection, one query.
  'floor.mjs': `import pg from 'pg'
const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
await client.connect()
await client.query('select 1')
await client.end()
`,
  'ours-import.mjs': `await import('@wukong/adapter-vercel')\n`,
  'kysely-import.mjs': `await import('kysely'); await import('kysely/migration'); await import('pg')\n`,
  // Counts the modules a script loads (diagnostic, untimed): node --import ./count-modules.mjs
  'count-modules.mjs': `import { registerHooks } from 'node:module'
let n = 0
registerHooks({ load(url, context, next) { n++; return next(url, context) } })
process.on('exit', () => process.stderr.write('modules=' + n + '\\n'))
`,
} as const

// What a row runs, given where things are: node with a script or the installed bin, or another program.
interface Where {
  readonly bin: string
  readonly url: string
  readonly dbmateUrl: string
  readonly dbmateDir: string
}
const NODE = process.execPath
const node = (script: string) => (): readonly string[] => [NODE, script]
const cliRun =
  (...args: string[]) =>
  (w: Where): readonly string[] => // As the bin's shebang runs it.
  [NODE, w.bin, ...args, ...(args[0] === '--version' ? [] : ['--url', w.url])]
const dbmateRun =
  (verb: string) =>
  (w: Where): readonly string[] => [
    dbmateBinary(),
    '--url',
    w.dbmateUrl,
    '--migrations-dir',
    w.dbmateDir,
    '--no-dump-schema',
    verb,
  ]

const ROWS: readonly {
  readonly id: string
  readonly label: string
  readonly argv: (w: Where) => readonly string[]
  readonly diagnostic: boolean
}[] = [
  {
    id: 'ours',
    argv: node('ours.mjs'),
    label: 'ours: `new MigrationRunner().migrate()` from the installed tarball',
    diagnostic: false,
  },
  { id: 'kysely', argv: node('kysely.mjs'), label: "Kysely's Migrator (migrations in memory)", diagnostic: false },
  { id: 'floor', argv: node('floor.mjs'), label: 'floor: node + pg + one query', diagnostic: false },
  { id: 'cli-migrate', argv: cliRun('migrate'), label: 'ours: `wukong-migrate migrate`', diagnostic: false },
  { id: 'cli-status', argv: cliRun('status'), label: 'ours: `wukong-migrate status`', diagnostic: false },
  { id: 'cli-version', argv: cliRun('--version'), label: 'ours: `wukong-migrate --version`', diagnostic: false },
  {
    id: 'psql',
    argv: (w) => [process.env['PSQL'] ?? 'psql', '-X', '-q', '-c', 'select 1', '-d', w.dbmateUrl],
    label: 'psql -c "select 1"',
    diagnostic: false,
  },
  { id: 'dbmate-status', argv: dbmateRun('status'), label: 'dbmate 2 `status`', diagnostic: false },
  { id: 'dbmate-up', argv: dbmateRun('migrate'), label: 'dbmate 2 `up` (nothing to apply)', diagnostic: false },
  {
    id: 'ours-import',
    argv: node('ours-import.mjs'),
    label: 'importing the package only (diagnostic)',
    diagnostic: true,
  },
  {
    id: 'kysely-import',
    argv: node('kysely-import.mjs'),
    label: 'importing kysely, kysely/migration and pg only (diagnostic)',
    diagnostic: true,
  },
]

/**
 * W5: a whole-process, up-to-date boot of a consumer app, as a cold start pays it. The
 * package is packed (`npm pack`, its prepack builds dist/) and installed from the tarball
 * with kysely and pg into a fresh app in the OS temp folder; each run is `node script.mjs`,
 * timed from spawn to exit, against one database that ours migrated (untimed), on which
 * Kysely's Migrator, holding the same files in memory, also finds nothing to do (ours keeps
 * `kysely_migration` in step). Contenders alternate; medians of the measured runs.
 *
 * @example
 * ```ts
 * const w5 = await runW5(ctx, { rounds: { warmup: 2, runs: 15 } })
 * ```
 */
export async function runW5(ctx: BenchContext, options: { rounds: Rounds }): Promise<W5Result> {
  const scratch = await mkdtemp(join(tmpdir(), 'wukong-w5-'))
  try {
    ctx.log('W5 packing the package and installing it into an app')
    const tarball = await packPackage(join(scratch, 'pack'))
    const app = await createAppFolder('wukong-w5-app-')
    try {
      await npm(['install', ...INSTALL_FLAGS, tarball, 'kysely', 'pg'], { cwd: app })
      for (const [name, text] of Object.entries(SCRIPTS)) await writeFile(join(app, name), text)
      await writeFile(join(app, 'files.mjs'), `export const FILES = ${JSON.stringify(await readWukongFiles())}\n`)
      const versions: Record<string, string> = {}
      for (const name of ['@wukong/adapter-vercel', 'kysely', 'pg']) {
        versions[name] = (
          JSON.parse(await readFile(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
        ).version
      }

      const database = await ctx.admin.createDatabase('w5')
      const env = appEnv({
        DATABASE_URL: ctx.admin.urlOf(database),
        TEST_DATABASE_URL: undefined,
        NODE_OPTIONS: undefined,
      })
      await spawned(
        app,
        [
          NODE,
          '-e',
          `const { MigrationRunner } = await import('@wukong/adapter-vercel'); const r = new MigrationRunner({ url: process.env.DATABASE_URL }); await r.migrate(); await r.close()`,
          '--input-type=module',
        ],
        env,
      )
      // dbmate's own database, migrated by dbmate (untimed), with the same files in its naming.
      const { specs } = await wukongMigrations()
      const folders = await writeMigrationFolders(ctx.workDir, 'w5-dbmate', specs)
      const dbmateUrl = new URL(ctx.admin.urlOf(await ctx.admin.createDatabase('w5dbmate')))
      dbmateUrl.searchParams.set('sslmode', 'disable')
      const where: Where = {
        bin: join(app, 'node_modules', '@wukong', 'adapter-vercel', 'bin', 'wukong-migrate.js'),
        url: ctx.admin.urlOf(database),
        dbmateUrl: dbmateUrl.toString(),
        dbmateDir: folders.dbmate,
      }
      await run(dbmateBinary(), dbmateRun('migrate')(where).slice(1), { cwd: app })

      const entries = ROWS.map((row) => ({ ...row, samples: [] as number[] }))
      const total = options.rounds.warmup + options.rounds.runs
      for (let round = 0; round < total; round++) {
        for (const entry of rotation(entries, round)) {
          const ms = await spawned(app, entry.argv(where), env)
          if (round >= options.rounds.warmup) entry.samples.push(ms)
        }
        ctx.log(`W5 round ${round + 1}/${total} ${round < options.rounds.warmup ? '(warm-up) ' : ''}done`)
      }
      const rows = []
      for (const e of entries) {
        const argv = e.argv(where)
        const modules = argv[0] === NODE ? await countModules(app, argv.slice(1), env) : undefined
        rows.push({
          id: e.id,
          label: e.label,
          runs: 'spawned' as const,
          diagnostic: e.diagnostic,
          samples: e.samples,
          summary: summarize(e.samples),
          modules,
        })
      }
      return { rounds: options.rounds, rows, versions }
    } finally {
      await rm(app, { recursive: true, force: true })
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function readWukongFiles(): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(MIGRATIONS)).filter((f) => /^\d+_.+\.sql$/.test(f) && !f.endsWith('.down.sql')).sort()
  return Promise.all(
    names.map(async (f) => ({ name: f.replace(/\.sql$/, ''), text: await readFile(join(MIGRATIONS, f), 'utf8') })),
  )
}

/** Runs `argv` in the app; resolves with the wall time from spawn to exit (ms). */
function spawned(cwd: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [program, ...args] = argv
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(program!, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
    const err: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code === 0) resolve(ms)
      else reject(new Error(`${argv.join(' ')} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`))
    })
  })
}

async function countModules(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--import', './count-modules.mjs', ...args], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const err: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', () => resolve(undefined))
    child.on('close', () => {
      const match = /modules=(\d+)/.exec(Buffer.concat(err).toString('utf8'))
      resolve(match ? Number(match[1]) : undefined)
    })
  })
}
