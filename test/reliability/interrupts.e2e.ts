// Ctrl-C or a CI job's SIGTERM while a file runs: the statement running on the server is
// canceled and rolled back (not left to commit later with nobody watching), the run reports
// what committed, and the process exits 130 / 143. A second signal exits at once, naming what
// may still run. The library's AbortSignal does the same from code.
import { sql, type Kysely } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunError, MigrationRunner } from '../../src/index.js'
import type { TestDatabaseHandle } from '../../src/testing/test-server.js'
import { connectClient, resolveTestServer } from '../../src/testing/test-server.js'
import { MIGRATION_LOCK_KEY } from '../../src/connect/index.js'
import { startCli, type RunningProcess } from '../support/cli-process.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/interrupts.e2e.ts'
// How long the canceled statement may take to leave pg_stat_activity; its file asks for 30 s.
const GONE_WITHIN_MS = 10_000

const EARLY = 'create table early (id int);\n'
// 30 s of work in one statement, unless it is canceled.
const SLOW = 'create table slow as select 1 as x from pg_sleep(30);\n'
// Swallows the first cancel and sleeps on: a statement that does not stop when asked.
const STUBBORN = `do $$
begin
  perform pg_sleep(30);
exception when query_canceled then
  perform pg_sleep(30);
end $$;
`

// pg_stat_activity's view of the database's backends inside pg_sleep (a batch's query text is
// longer than track_activity_query_size, so the wait event finds the file, not the text).
const SLEEPING = sql`select pid from pg_stat_activity
  where datname = current_database() and state = 'active' and wait_event = 'PgSleep'`

/** The backend running a file's pg_sleep, once it runs. */
async function runningStatement(db: Kysely<unknown>, timeoutMs = 60_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    const { rows } = await sql<{ pid: number }>`${SLEEPING}`.execute(db)
    if (rows[0]) return rows[0].pid
    if (Date.now() - started > timeoutMs) throw new Error(`no pg_sleep ran within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Milliseconds until no backend of the database sleeps in pg_sleep any more, or undefined past `boundMs`. */
async function goneWithin(db: Kysely<unknown>, boundMs: number): Promise<number | undefined> {
  const started = performance.now()
  for (;;) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from (${SLEEPING}) s`.execute(db)
    const ms = performance.now() - started
    if (rows[0]!.n === 0) return ms
    if (ms > boundMs) return undefined
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function ledgerVersions(db: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ version: number }>`select version from schema_versions order by version`.execute(db)
  return rows.map((r) => r.version)
}

async function exists(db: Kysely<unknown>, table: string): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${table})::text as t`.execute(db)
  return rows[0]!.t !== null
}

function migrate(handle: TestDatabaseHandle, folder: string, extra: readonly string[] = []): RunningProcess {
  return startCli(['migrate', '--url', handle.url!, '--dir', folder, ...extra])
}

describe.skipIf(server.skipReason)('interrupts', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const signals = 'a signal while a file runs cancels it on the server and exits 130 / 143'
  it(signals, async () => {
    await recordScenario(
      {
        id: 'interrupt-signals',
        group: 'Interrupts',
        scenario: `${signals} (SIGINT and SIGTERM during a 30 s CREATE TABLE AS; the file is not recorded, its table does not exist)`,
        file: FILE,
        testName: signals,
      },
      async (progress) => {
        for (const [signal, code] of [
          ['SIGINT', 130],
          ['SIGTERM', 143],
        ] as const) {
          const handle = await databases.create()
          const folder = await migrationFolder({ '001_early.sql': EARLY, '002_slow.sql': SLOW })
          const run = migrate(handle, folder)
          const pid = await runningStatement(handle.db)
          run.child.kill(signal)
          const gone = await goneWithin(handle.db, GONE_WITHIN_MS)
          const { code: exit, stdout, stderr } = await run.exited
          expect(exit, stderr).toBe(code)
          expect(gone, `backend ${pid} still ran the statement ${GONE_WITHIN_MS} ms after ${signal}`).toBeDefined()
          expect(stderr).toContain('error[INTERRUPTED]')
          expect(stderr).toContain('002_slow.sql was canceled on the server')
          expect(stdout).toMatch(/applied +001_early\.sql/)
          expect(await ledgerVersions(handle.db)).toEqual([1])
          expect(await exists(handle.db, 'slow')).toBe(false)
          expect(await exists(handle.db, 'early')).toBe(true)
          progress.notes.push(
            `${signal}: exit ${exit}; the canceled statement left pg_stat_activity ${Math.round(gone!)} ms after the signal`,
          )
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const noTransaction = 'a no-transaction file interrupted mid-way reports which statements committed'
  it(noTransaction, async () => {
    await recordScenario(
      {
        id: 'interrupt-no-transaction',
        group: 'Interrupts',
        scenario: noTransaction,
        file: FILE,
        testName: noTransaction,
      },
      async (progress) => {
        const handle = await databases.create()
        const folder = await migrationFolder({
          '001_steps.sql':
            '-- wukong:no-transaction\ncreate table nt_a (id int);\nselect pg_sleep(30);\ncreate table nt_b (id int);\n',
        })
        const run = migrate(handle, folder, ['--json'])
        await runningStatement(handle.db)
        run.child.kill('SIGINT')
        const { code, stdout, stderr } = await run.exited
        expect(code, stderr).toBe(130)
        const doc = JSON.parse(stdout) as { exitCode: number; error: Record<string, unknown> }
        expect(doc.exitCode).toBe(130)
        expect(doc.error).toMatchObject({ code: 'INTERRUPTED', file: '001_steps.sql', line: 3, sqlState: '57014' })
        expect(doc.error['message']).toContain('its statements before line 3 committed')
        expect(await exists(handle.db, 'nt_a')).toBe(true)
        expect(await exists(handle.db, 'nt_b')).toBe(false)
        expect(await ledgerVersions(handle.db)).toEqual([])
        progress.notes.push(`reported: ${String(doc.error['message'])}`)
        progress.trials++
        databases.release(handle)
      },
    )
  })

  const stubborn = 'a statement that ignores the cancel: the wait is bounded, and a second signal exits at once'
  it(stubborn, async () => {
    await recordScenario(
      {
        id: 'interrupt-stubborn',
        group: 'Interrupts',
        scenario: `${stubborn} (both name the file and its backend pid)`,
        file: FILE,
        testName: stubborn,
      },
      async (progress) => {
        for (const twice of [true, false]) {
          const handle = await databases.create()
          const folder = await migrationFolder({ '001_stubborn.sql': STUBBORN })
          const run = migrate(handle, folder)
          const pid = await runningStatement(handle.db)
          run.child.kill('SIGINT')
          const signalled = performance.now()
          if (twice) {
            await waitForText(run, /send SIGINT again/)
            run.child.kill('SIGINT')
          }
          const { code, stderr } = await run.exited
          const took = performance.now() - signalled
          expect(code, stderr).toBe(130)
          expect(stderr.replace(/\s+/g, ' ')).toContain(
            `001_stubborn.sql may still be running on the server, backend pid ${pid}`,
          )
          // The statement sleeps 30 s more after the first cancel; the wait for it is 10 s.
          expect(took).toBeLessThan(25_000)
          if (twice) expect(stderr).toContain('SIGINT again: exiting at once')
          // The error carries the backend's pid, so the advice names the statement to end.
          else expect(stderr).toContain(`end it with pg_terminate_backend(${pid})`)
          progress.notes.push(`${twice ? 'second SIGINT' : 'one SIGINT'}: exit ${code} after ${Math.round(took)} ms`)
          await sql`select pg_terminate_backend(${pid})`.execute(handle.db)
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const library = 'an AbortSignal stops the runner from code (mid-file; while waiting for the migration lock)'
  it(library, async () => {
    await recordScenario(
      { id: 'interrupt-library', group: 'Interrupts', scenario: library, file: FILE, testName: library },
      async (progress) => {
        const handle = await databases.create()
        const folder = await migrationFolder({ '001_early.sql': EARLY, '002_slow.sql': SLOW })

        const mid = new AbortController()
        const runner = new MigrationRunner({
          url: handle.url,
          migrationFolder: folder,
          log: () => {},
          signal: mid.signal,
        })
        const run = runner.migrate().catch((error: unknown) => error)
        await runningStatement(handle.db)
        mid.abort()
        const error = await run
        await runner.close()
        expect(error).toBeInstanceOf(MigrationRunError)
        expect((error as MigrationRunError).code).toBe('INTERRUPTED')
        expect((error as MigrationRunError).results.map((r) => [r.fileName, r.status])).toEqual([
          ['001_early.sql', 'applied'],
          ['002_slow.sql', 'failed'],
        ])
        expect(await goneWithin(handle.db, GONE_WITHIN_MS)).toBeDefined()
        expect(await ledgerVersions(handle.db)).toEqual([1])
        progress.trials++

        // Another session holds the migration lock: the run waits for it (nothing of it on the
        // server yet), and the abort ends the wait at once.
        const stuck = await connectClient(handle.url!)
        try {
          await stuck.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
          await sql`create table later_marker (id int)`.execute(handle.db)
          const later = await migrationFolder({
            '001_early.sql': EARLY,
            '002_slow.sql': SLOW,
            '003_later.sql': 'create table later (id int);\n',
          })
          const waiting = new AbortController()
          const waiter = new MigrationRunner({
            url: handle.url,
            migrationFolder: later,
            log: () => {},
            signal: waiting.signal,
          })
          const wait = waiter.migrate().catch((e: unknown) => e)
          await new Promise((r) => setTimeout(r, 500))
          const aborted = performance.now()
          waiting.abort()
          const waitError = await wait
          await waiter.close()
          const took = performance.now() - aborted
          expect((waitError as MigrationRunError).code).toBe('INTERRUPTED')
          expect((waitError as MigrationRunError).reason).toContain('waiting for the migration lock; no file ran')
          // The lock wait is 300 s by default; the abort and close end it.
          expect(took).toBeLessThan(30_000)
          expect(await exists(handle.db, 'later')).toBe(false)
          progress.notes.push(
            `aborted while waiting for the lock: rejected and closed ${Math.round(took)} ms after the abort`,
          )
        } finally {
          await stuck.end()
        }
        progress.trials++
        databases.release(handle)
      },
    )
  })
})

async function waitForText(run: RunningProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const started = Date.now()
  while (!pattern.test(run.output().stderr)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${pattern} on stderr:\n${run.output().stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
