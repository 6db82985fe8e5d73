// Every place the tool waits has a limit, a named error and a real blocker here: another
// migrator's lock (URL, given Kysely instance, pooled lock), a session holding the ledger
// before the lock is taken, the replay that locates a failing statement, a peer that accepts
// TCP and never answers, and a holder's CREATE INDEX CONCURRENTLY. Bounds are short options
// (WUKONG_WAIT_MS, default 1 000 ms), so the suite waits seconds.
import { createServer, type Socket } from 'node:net'
import { Writable } from 'node:stream'

import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import { runCli } from '../../src/cli/run-cli.js'
import { MigrationError, MigrationRunner, type MigrationRunnerOptions } from '../../src/index.js'
import { MIGRATION_LOCK_KEY } from '../../src/connect/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import { waitForBackend, withApplicationName } from '../support/backend-probe.js'
import { snapshotDatabase } from '../support/db-snapshot.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/waits.e2e.ts'
const GROUP = 'Unbounded waits'
const WAIT_MS = Number(process.env['WUKONG_WAIT_MS'] ?? 1_000)
const quiet = { log: () => {} }

async function outcome(run: Promise<unknown>): Promise<MigrationError | 'ok'> {
  return run.then(
    () => 'ok' as const,
    (e: unknown) => e as MigrationError,
  )
}

/** A second session, named so messages can be checked for it. */
async function session(url: string, app: string): Promise<pg.Client & { pid: number }> {
  const client = new pg.Client({ connectionString: withApplicationName(url, app) })
  client.on('error', () => {})
  await client.connect()
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
  return Object.assign(client, { pid: rows[0]!.pid })
}

async function tableExists(handle: TestDatabaseHandle, name: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`select to_regclass(${name}) is not null as ok`.execute(handle.db)
  return rows[0]!.ok
}

describe.skipIf(needsServer(server, 'unbounded waits'))('unbounded waits', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const lockName = 'a stuck holder of the migration lock fails the run with LOCK_TIMEOUT naming it'
  it(lockName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'wait-migration-lock',
        group: GROUP,
        scenario: `${lockName} (URL: bounded session lock; given Kysely instance; pooled: transaction lock; CLI --lock-wait-timeout)`,
        file: FILE,
        testName: lockName,
      },
      async (progress) => {
        const variants: Record<
          string,
          (url: string, folder: string) => { runner: MigrationRunner; close: () => Promise<void> }
        > = {
          url: (url, folder) => ({
            runner: new MigrationRunner({ url, migrationFolder: folder, timeouts: { lockWaitMs: WAIT_MS }, ...quiet }),
            close: async () => {},
          }),
          'given db': (url, folder) => {
            const db = robustKysely(url)
            return {
              runner: new MigrationRunner({ db, migrationFolder: folder, timeouts: { lockWaitMs: WAIT_MS }, ...quiet }),
              close: () => db.destroy(),
            }
          },
          pooled: (url, folder) => ({
            runner: new MigrationRunner({
              url,
              pooled: true,
              migrationFolder: folder,
              timeouts: { lockWaitMs: WAIT_MS },
              ...quiet,
            }),
            close: async () => {},
          }),
        }
        for (const [name, make] of Object.entries(variants)) {
          const handle = await databases.create()
          const stuck = await session(handle.url!, 'wk-stuck-migrator')
          await stuck.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
          const { runner, close } = make(
            handle.url!,
            await migrationFolder({ '001_a.sql': 'create table a (id int);\n' }),
          )
          const error = await outcome(runner.migrate())
          await runner.close()
          await close()
          await stuck.end()
          expect(error, name).toBeInstanceOf(MigrationError)
          const e = error as MigrationError
          expect({ name, code: e.code }).toEqual({ name, code: 'LOCK_TIMEOUT' })
          expect(e.message).toContain(`backend pid ${stuck.pid}`)
          expect(e.message).toContain('wk-stuck-migrator')
          expect(await tableExists(handle, 'a')).toBe(false)
          progress.notes.push(`${name}: ${e.message}`)
          progress.trials++
          databases.release(handle)
        }
        // The command line: --lock-wait-timeout.
        const handle = await databases.create()
        const stuck = await session(handle.url!, 'wk-stuck-migrator')
        await stuck.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
        let out = ''
        const sink = new Writable({
          write: (chunk, _e, done) => {
            out += String(chunk)
            done()
          },
        })
        const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
        const code = await runCli(
          ['migrate', '--dir', folder, '--url', handle.url!, '--lock-wait-timeout', String(WAIT_MS), '--json'],
          { stdout: sink, stderr: new Writable({ write: (_c, _e, done) => done() }), env: {}, cwd: process.cwd() },
        )
        await stuck.end()
        const json = JSON.parse(out) as { error: { code: string; message: string } }
        expect({ code, error: json.error.code }).toEqual({ code: 1, error: 'LOCK_TIMEOUT' })
        expect(json.error.message).toContain(`backend pid ${stuck.pid}`)
        expect(await tableExists(handle, 'a')).toBe(false)
        progress.trials++
        databases.release(handle)
      },
    )
  })

  const cicName = 'a migrator waiting for the lock does not deadlock with the holder’s CREATE INDEX CONCURRENTLY'
  it(cicName, { timeout: 60_000 }, async () => {
    await recordScenario(
      { id: 'wait-cic', group: GROUP, scenario: cicName, file: FILE, testName: cicName },
      async (progress) => {
        for (const given of [false, true]) {
          const handle = await databases.create()
          const folder = await migrationFolder({
            '001_table.sql': 'create table t (id int, name text);\n',
            '002_index.sql':
              '-- wukong:no-transaction\nselect pg_sleep(1);\ncreate index concurrently if not exists t_name on t (name);\n',
          })
          const holder = new MigrationRunner({
            url: withApplicationName(handle.url!, 'wk-cic-holder'),
            migrationFolder: folder,
            ...quiet,
          })
          const first = outcome(holder.migrate())
          await waitForBackend(handle.db, 'wk-cic-holder', (b) => b.waitEvent === 'PgSleep')
          // The waiter boots while the holder is in 002: it waits for the migration lock.
          const db = given ? robustKysely(handle.url!) : undefined
          const waiter = new MigrationRunner({
            ...(db ? { db } : { url: handle.url! }),
            migrationFolder: folder,
            ...quiet,
          })
          const outcomes = await Promise.all([first, outcome(waiter.migrate())])
          await Promise.all([holder.close(), waiter.close(), db?.destroy()])
          const { rows } = await sql<{
            valid: boolean
          }>`select indisvalid as valid from pg_index where indexrelid = to_regclass('t_name')`.execute(handle.db)
          // Kysely's pg_advisory_lock kept the waiter's snapshot: "deadlock detected (SQLSTATE 40P01)".
          expect(outcomes.map((o) => (o === 'ok' ? o : `${o.code}: ${o.message}`))).toEqual(['ok', 'ok'])
          expect(rows).toEqual([{ valid: true }])
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const ledgerName = 'a session holding the ledger before the migration lock fails the run with LOCK_TIMEOUT naming it'
  it(ledgerName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'wait-ledger',
        group: GROUP,
        scenario: `${ledgerName} (boot read, status, bootstrap of an old-runner ledger)`,
        file: FILE,
        testName: ledgerName,
      },
      async (progress) => {
        const base = { '001_a.sql': 'create table a (id int);\n' }
        const options = (folder: string): MigrationRunnerOptions => ({
          migrationFolder: folder,
          timeouts: { lockMs: WAIT_MS },
          ...quiet,
        })
        const cases: {
          name: string
          prepare: (h: TestDatabaseHandle) => Promise<void>
          hold: string
          run: (r: MigrationRunner) => Promise<unknown>
          table: string
        }[] = [
          {
            name: 'boot read (migrate)',
            prepare: async (h) =>
              void (await new MigrationRunner({ db: h.db, ...options(await migrationFolder(base)) }).migrate()),
            hold: 'lock table schema_versions in access exclusive mode',
            run: (r) => r.migrate(),
            table: 'b',
          },
          {
            name: 'status',
            prepare: async (h) =>
              void (await new MigrationRunner({ db: h.db, ...options(await migrationFolder(base)) }).migrate()),
            hold: 'lock table schema_versions in access exclusive mode',
            run: (r) => r.status(),
            table: 'b',
          },
          {
            // The old runner's ledger: the bootstrap adds columns (ACCESS EXCLUSIVE), while a
            // report holds a plain read lock on the ledger in an open transaction.
            name: 'bootstrap (old-runner ledger)',
            prepare: async (h) => {
              await sql`create table schema_versions (version integer primary key, description text not null, applied_at timestamptz default now())`.execute(
                h.db,
              )
              await sql`create table a (id int)`.execute(h.db)
              await sql`insert into schema_versions (version, description) values (1, 'a')`.execute(h.db)
            },
            hold: 'lock table schema_versions in access share mode',
            run: (r) => r.migrate(),
            table: 'b',
          },
        ]
        for (const c of cases) {
          const handle = await databases.create()
          await c.prepare(handle)
          const folder = await migrationFolder({ ...base, '002_b.sql': 'create table b (id int);\n' })
          const before = await snapshotDatabase(handle.db)
          const holder = await session(handle.url!, 'wk-ledger-reader')
          await holder.query('begin')
          await holder.query(c.hold)
          const runner = new MigrationRunner({ url: handle.url!, ...options(folder) })
          const error = await outcome(c.run(runner))
          await runner.close()
          await holder.query('rollback')
          await holder.end()
          expect(error, c.name).toBeInstanceOf(MigrationError)
          const e = error as MigrationError
          expect({ name: c.name, code: e.code }).toEqual({ name: c.name, code: 'LOCK_TIMEOUT' })
          expect(e.message).toMatch(/schema_versions is locked \(Access(Exclusive|Share)Lock\)/)
          expect(e.message).toContain(`backend pid ${holder.pid}`)
          expect(e.message).toContain('wk-ledger-reader')
          expect(await tableExists(handle, c.table)).toBe(false)
          expect(await snapshotDatabase(handle.db)).toBe(before)
          progress.notes.push(`${c.name}: ${e.message}`)
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const replayName = 'the replay that locates a failing statement runs under the file’s lock and statement timeouts'
  it(replayName, { timeout: 60_000 }, async () => {
    await recordScenario(
      { id: 'wait-replay', group: GROUP, scenario: replayName, file: FILE, testName: replayName },
      async (progress) => {
        // nextval is not rolled back: the first run of statement 1 sees 1, the replay 2, so
        // only the replay waits (for advisory lock 2, or in a long sleep).
        const cases = {
          'lock wait': {
            first: "select pg_advisory_xact_lock(nextval('attempts'));",
            options: { timeouts: { lockMs: WAIT_MS } },
          },
          'long statement': {
            first: "select pg_sleep(case when nextval('attempts') > 1 then 3600 else 0 end);",
            options: { timeouts: { statementMs: WAIT_MS } },
          },
        }
        for (const [name, c] of Object.entries(cases)) {
          const handle = await databases.create()
          const base = { '001_base.sql': 'create sequence attempts;\ncreate table busy (id int);\n' }
          await new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(base), ...quiet }).migrate()
          const holder = await session(handle.url!, 'wk-replay-blocker')
          await holder.query('select pg_advisory_lock(2)')
          const folder = await migrationFolder({
            ...base,
            '002_fails.sql': `${c.first}\ncreate table busy (id int);\n`,
          })
          const error = await outcome(
            new MigrationRunner({ db: handle.db, migrationFolder: folder, ...c.options, ...quiet }).migrate(),
          )
          await holder.end()
          expect(error, name).toBeInstanceOf(MigrationError)
          const e = error as MigrationError
          // The file's own error, not the replay's timeout; the replay could not point at a line.
          expect({ name, code: e.code, file: e.file, line: e.line }).toEqual({
            name,
            code: 'MIGRATION_FAILED',
            file: '002_fails.sql',
            line: undefined,
          })
          expect(e.message).toMatch(/relation "busy" already exists/)
          progress.trials++
          databases.release(handle)
        }
      },
    )
  })

  const silentName = 'a peer that accepts TCP and never answers fails the run with CONNECTION_FAILED'
  it(silentName, { timeout: 60_000 }, async () => {
    await recordScenario(
      {
        id: 'wait-silent-peer',
        group: GROUP,
        scenario: `${silentName} (URL connect_timeout, timeouts.connectMs option; migrate and status)`,
        file: FILE,
        testName: silentName,
      },
      async (progress) => {
        const sockets: Socket[] = []
        const silent = createServer((socket) => sockets.push(socket))
        await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
        const port = (silent.address() as { port: number }).port
        const folder = await migrationFolder({ '001_a.sql': 'select 1;\n' })
        try {
          const cases: Record<string, () => Promise<unknown>> = {
            'connect_timeout=2 in the URL, migrate': () =>
              new MigrationRunner({
                url: `postgres://postgres@127.0.0.1:${port}/x?connect_timeout=2`,
                migrationFolder: folder,
                ...quiet,
              }).migrate(),
            'timeouts.connectMs option, migrate': () =>
              new MigrationRunner({
                url: `postgres://postgres@127.0.0.1:${port}/x`,
                timeouts: { connectMs: WAIT_MS },
                migrationFolder: folder,
                ...quiet,
              }).migrate(),
            'timeouts.connectMs option, status': () =>
              new MigrationRunner({
                url: `postgres://postgres@127.0.0.1:${port}/x`,
                timeouts: { connectMs: WAIT_MS },
                migrationFolder: folder,
                ...quiet,
              }).status(),
          }
          for (const [name, run] of Object.entries(cases)) {
            const error = await outcome(run())
            expect(error, name).toBeInstanceOf(MigrationError)
            expect({ name, code: (error as MigrationError).code }).toEqual({ name, code: 'CONNECTION_FAILED' })
            expect((error as MigrationError).message).toMatch(/timeout/i)
            progress.notes.push(`${name}: ${(error as MigrationError).message}`)
            progress.trials++
          }
        } finally {
          for (const s of sockets) s.destroy()
          silent.close()
        }
      },
    )
  })
})
