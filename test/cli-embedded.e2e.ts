import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql, type Kysely } from 'kysely'
import { describe, expect, it, onTestFinished } from 'vitest'

import { createDatabase } from '../src/index.js'
import { lockFileOf } from '../src/connect/index.js'
import { cli, folderWith, jsonOf, startCli, startProcess, type CliRun } from './support/cli-process.js'
import {
  invariantViolations,
  readLedgerState,
  type ExpectedFile,
  type LedgerState,
} from './support/ledger-invariants.js'

// No URL variable at all: the CLI uses the embedded PGlite database and says so in one line
// on stderr. PGlite takes seconds to boot, so this suite keeps to three runs on one database.
describe('wukong-migrate on the embedded database', { timeout: 300_000 }, () => {
  it('migrate (default folder .wukong/pglite), status --check --json, then a failed migration with its caret', async () => {
    const cwd = await realpath(await mkdtemp(join(tmpdir(), 'wk-cli-embedded-')))
    const dataDir = join(cwd, '.wukong', 'pglite')
    const dir = await folderWith({
      '001_items.sql':
        'create extension if not exists vector;\ncreate table items (id int primary key, embedding vector(3));\n',
      '002_seed.sql': "insert into items values (1, '[1,2,3]');\n",
    })
    onTestFinished(() => rm(cwd, { recursive: true, force: true }))
    const announce = `Using the embedded PGlite database in ${dataDir} (none of POSTGRES_URL_NON_POOLING, DATABASE_URL_UNPOOLED, POSTGRES_URL, POSTGRES_PRISMA_URL, DATABASE_URL is set)\n`

    const migrate = await cli(['migrate', '--dir', dir], { cwd })
    expect(migrate.code).toBe(0)
    expect(migrate.stderr).toBe(announce)
    expect(migrate.stdout).toContain(`Migrating embedded PGlite in ${dataDir} with ${dir}`)
    expect(migrate.stdout).toMatch(/^ {2}applied {3}001_items\.sql +[\d.]+ m?s$/m)
    expect(migrate.stdout).toMatch(/^ {2}applied {3}002_seed\.sql +[\d.]+ m?s$/m)
    expect(migrate.stdout).toMatch(/Done: 2 applied in .*; the database is at version 2\.\n$/)

    // The same database through WUKONG_PGLITE_DIR, from elsewhere.
    const status = await cli(['status', '--check', '--json', '--dir', dir], { env: { WUKONG_PGLITE_DIR: dataDir } })
    expect(status.code).toBe(0)
    expect(status.stderr).toBe(announce)
    expect(jsonOf(status)).toMatchObject({
      version: 1,
      command: 'status',
      ok: true,
      database: { source: 'embedded', url: null, dataDir },
      currentVersion: 2,
      isUpToDate: true,
      pending: [],
    })

    await writeFile(
      join(dir, '003_broken.sql'),
      '-- a typo on line 3, column 8\nupdate items set id = 2;\nselect idd from items;\n',
    )
    const failed = await cli(['migrate', '--dir', dir], { cwd })
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^ {2}FAILED {4}003_broken\.sql$/m)
    expect(failed.stdout).toMatch(/Migration failed: 1 failed in .*; the database is at version 2\.\n$/)
    const lines = failed.stderr.split('\n')
    expect(lines[0]).toBe(announce.trimEnd())
    expect(lines[1]).toBe('error[MIGRATION_FAILED]: column "idd" does not exist')
    expect(lines[2]).toBe(` --> ${dir}/003_broken.sql:3:8`)
    expect(lines[4]).toBe('3 | select idd from items;')
    expect(lines[5]).toBe('  |        ^')
    expect(failed.stderr).toContain('= sqlstate: 42703')
  })
})

// Three files, each recording that its SQL ran (side_effects) and creating one relation, so the
// final state shows whether anything committed was lost or anything ran twice.
const FILES: readonly ExpectedFile[] = [
  { version: 1, name: '001_items', creates: 'items' },
  { version: 2, name: '002_tags', creates: 'tags' },
  { version: 3, name: '003_notes', creates: 'notes' },
]
const SQL: Readonly<Record<string, string>> = {
  '001_items.sql':
    'create extension if not exists vector;\ncreate table side_effects (version int not null);\n' +
    "create table items (id int primary key, embedding vector(3));\ninsert into items values (1, '[1,2,3]');\n" +
    'insert into side_effects values (1);\n',
  '002_tags.sql': 'create table tags (name text primary key);\ninsert into side_effects values (2);\n',
  '003_notes.sql': 'create table notes (body text);\ninsert into side_effects values (3);\n',
}

async function project(
  files: Record<string, string> = { ...SQL },
): Promise<{ cwd: string; dataDir: string; dir: string }> {
  const cwd = await realpath(await mkdtemp(join(tmpdir(), 'wk-cli-embedded-')))
  const dir = await folderWith(files)
  onTestFinished(async () => {
    await rm(cwd, { recursive: true, force: true })
    await rm(dir, { recursive: true, force: true })
  })
  return { cwd, dataDir: join(cwd, '.wukong', 'pglite'), dir }
}

/** Both ledgers, the catalog and the side effects, read by this process once the folder is free. */
async function finalState(dataDir: string): Promise<LedgerState & { items: number }> {
  const db = await createDatabase({ driver: 'pglite', dataDir, busyTimeoutMs: 0 })
  try {
    const state = await readLedgerState(db as unknown as Kysely<unknown>, FILES)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from items`.execute(db)
    return { ...state, items: rows[0]!.n }
  } finally {
    await db.destroy()
  }
}

function expectConverged(state: LedgerState & { items: number }): void {
  expect(invariantViolations(state, FILES, { converged: true })).toEqual([])
  expect(state.schemaVersions).toEqual([1, 2, 3])
  expect(state.kysely).toEqual(['001_items', '002_tags', '003_notes'])
  expect(state.inCatalog).toEqual([1, 2, 3])
  // Each file's SQL ran exactly once, and 001's row is still there.
  expect(state.sideEffects).toEqual([1, 2, 3])
  expect(state.items).toBe(1)
}

function describeRuns(...runs: CliRun[]): string {
  return runs.map((r, i) => `--- run ${i + 1} (exit ${r.code})\n${r.stdout}${r.stderr}`).join('\n')
}

// Concurrent runs wait for each other: a generous bound, so that a loaded machine's slow PGlite
// boot is not mistaken for a busy folder (the bound itself is tested below).
const PATIENT = { WUKONG_PGLITE_BUSY_TIMEOUT_MS: '100000' }

describe('the embedded database used by two processes', { timeout: 300_000 }, () => {
  it('two migrates at once: one applies every file, the other waits and finds them applied', async () => {
    const { cwd, dataDir, dir } = await project()
    const migrate = () => startCli(['migrate', '--dir', dir], { cwd, env: PATIENT }).exited
    const [a, b] = await Promise.all([migrate(), migrate()])
    const runs = describeRuns(a, b)
    expect([a.code, b.code], runs).toEqual([0, 0])
    const outputs = [a.stdout, b.stdout].sort()
    expect(
      outputs.filter((o) => /Done: 3 applied in .*; the database is at version 3\.\n$/.test(o)),
      runs,
    ).toHaveLength(1)
    expect(
      outputs.filter((o) => /Already up to date; the database is at version 3\.\n$/.test(o)),
      runs,
    ).toHaveLength(1)
    // The waiter said whom it waited for.
    const waited = [a.stderr, b.stderr].filter((e) => e.includes('is open in process'))
    expect(waited.length, runs).toBeLessThanOrEqual(1)
    const notice = new RegExp(
      `The embedded database in ${escapeRegExp(dataDir)} is open in process \\d+ ` +
        `\\(node wukong-migrate\\.js migrate --dir [^)]*\\); waiting up to 100000 ms for it to close`,
    )
    for (const line of waited) expect(line).toMatch(notice)
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
    expectConverged(await finalState(dataDir))
  })

  it('migrate and status at once: status reports what is committed, before or after, never a damaged folder', async () => {
    const { cwd, dataDir, dir } = await project()
    const [migrate, status] = await Promise.all([
      startCli(['migrate', '--dir', dir], { cwd, env: PATIENT }).exited,
      startCli(['status', '--json', '--dir', dir], { cwd, env: PATIENT }).exited,
    ])
    const runs = describeRuns(migrate, status)
    expect(migrate.code, runs).toBe(0)
    expect(migrate.stdout, runs).toMatch(/Done: 3 applied in .*; the database is at version 3\.\n$/)
    expect(status.code, runs).toBe(0)
    const report = jsonOf<{ ok: boolean; currentVersion: number | null; pending: unknown[]; applied: unknown[] }>(
      status,
    )
    // Whichever got the folder first, status saw a whole state: nothing, or everything.
    if (report.currentVersion === null) expect([report.pending.length, report.applied.length], runs).toEqual([3, 0])
    else expect([report.currentVersion, report.pending.length, report.applied.length], runs).toEqual([3, 0, 3])
    expectConverged(await finalState(dataDir))
  })

  it('a migrate SIGKILLed in the middle of a file: the next run takes the lock over and finishes, losing nothing', async () => {
    const { cwd, dataDir, dir } = await project({
      ...SQL,
      '002_tags.sql': `select pg_sleep(600);\n${SQL['002_tags.sql']}`,
    })
    const victim = startCli(['migrate', '--dir', dir], { cwd })
    await victim.waitFor(/^ {2}applied {3}001_items\.sql/m)
    // 001 is committed; 002 sleeps inside its transaction (the lock file is the victim's).
    expect(JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8'))).toMatchObject({ pid: victim.pid })
    victim.child.kill('SIGKILL')
    expect((await victim.exited).signal).toBe('SIGKILL')
    expect(JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8'))).toMatchObject({ pid: victim.pid })

    // 002 never committed, so it may still change; the rerun does not wait for the dead owner.
    await writeFile(join(dir, '002_tags.sql'), SQL['002_tags.sql']!)
    const rerun = await cli(['migrate', '--dir', dir, '--busy-timeout', '0'], { cwd })
    expect(rerun.code, describeRuns(rerun)).toBe(0)
    // 001 is not run again; Kysely's own ledger may lag by the file the victim had just
    // committed, which the rerun records ("healed").
    expect(rerun.stdout).not.toMatch(/applied +001_items/)
    expect(rerun.stdout).toMatch(/^ {2}applied {3}002_tags\.sql/m)
    expect(rerun.stdout).toMatch(/Done: 2 applied(, 1 healed)? in .*; the database is at version 3\.\n$/)
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
    expectConverged(await finalState(dataDir))
  })

  it('a process that cannot wait long enough gets a clear error naming the folder and the holder, and touches nothing', async () => {
    const { cwd, dataDir, dir } = await project()
    const first = await cli(['migrate', '--dir', dir], { cwd })
    expect(first.code, describeRuns(first)).toBe(0)

    const holder = startProcess(process.execPath, ['--import', 'tsx', 'test/support/embedded-holder.ts', dataDir])
    onTestFinished(() => {
      holder.child.kill('SIGKILL')
    })
    await holder.waitFor(/^open \d+$/m)

    const json = await cli(['status', '--json', '--dir', dir, '--busy-timeout', '500'], { cwd })
    expect(json.code).toBe(1)
    const { error } = jsonOf<{ error: { code: string; message: string; advice: string } }>(json)
    expect(error.code).toBe('EMBEDDED_DATABASE_BUSY')
    expect(error.message).toMatch(
      new RegExp(
        `^the embedded database in ${escapeRegExp(dataDir)} is open in process ${holder.pid} ` +
          `\\(node embedded-holder\\.ts [^)]*\\) on ${escapeRegExp(hostname())} since \\S+; waited [\\d.]+ m?s for it to close$`,
      ),
    )
    expect(error.advice).toContain('--busy-timeout')

    // For people, through the environment variable; 0 means "do not wait".
    const human = await cli(['migrate', '--dir', dir], { cwd, env: { WUKONG_PGLITE_BUSY_TIMEOUT_MS: '0' } })
    expect(human.code).toBe(1)
    expect(human.stderr).toContain(
      `error[EMBEDDED_DATABASE_BUSY]: the embedded database in ${dataDir} is open in process ${holder.pid} (node embedded-holder.ts`,
    )
    expect(human.stderr).not.toContain('[object Object]')
    expect(human.stderr).not.toContain('waiting up to')

    const bad = await cli(['status', '--dir', dir], { cwd, env: { WUKONG_PGLITE_BUSY_TIMEOUT_MS: 'soon' } })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('WUKONG_PGLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got "soon"')

    holder.closeStdin()
    expect((await holder.exited).stdout).toContain('closed\n')
    expectConverged(await finalState(dataDir))
  })

  it('a lock file left by a process that is gone is taken over without waiting', async () => {
    const { cwd, dataDir, dir } = await project()
    await mkdir(dataDir, { recursive: true })
    const gone = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
    )
    const stale = {
      pid: gone,
      host: hostname(),
      command: 'node app.js',
      since: '2026-01-01T00:00:00.000Z',
      token: 'ef'.repeat(12),
    }
    await writeFile(lockFileOf(dataDir), `${JSON.stringify(stale)}\n`)
    const run = await cli(['migrate', '--dir', dir, '--busy-timeout', '0'], { cwd })
    expect(run.code, describeRuns(run)).toBe(0)
    expect(run.stdout).toMatch(/Done: 3 applied/)
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
    expectConverged(await finalState(dataDir))
  })

  it('PGlite failing to open the folder is reported as text, once', async () => {
    const { cwd, dataDir, dir } = await project()
    await mkdir(dataDir, { recursive: true })
    await writeFile(join(dataDir, 'PG_VERSION'), '99\n')
    const run = await cli(['status', '--dir', dir], { cwd })
    expect(run.code).toBe(1)
    const error = run.stderr.split('\n').find((l) => l.startsWith('error['))
    expect(error).toBe(
      `error[CONNECTION_FAILED]: cannot open the embedded database in ${dataDir}: ${dataDir} holds a PostgreSQL 99 data folder that this PGlite cannot open: made by another PGlite version, or damaged (PGlite failed to initialize properly); move ${dataDir} aside (or delete it, if its data is disposable) so a new one is created, or point WUKONG_PGLITE_DIR at another folder`,
    )
    expect(run.stderr).not.toContain('[object Object]')
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
  })
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
