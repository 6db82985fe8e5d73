// A file that needs a lock another session holds fails fast (lock_timeout)
// instead of hanging the deploy, and a runaway statement is cut off (statement_timeout); in
// both cases nothing of the file remains and a retry converges. Defaults: MigrationRunnerOptions.
import { sql } from 'kysely'
import type pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import {
  type MigrationError,
  MigrationRunError,
  MigrationRunner,
  type MigrationRunnerOptions,
} from '../../src/index.js'
import { connectClient, resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import { snapshotDatabase } from '../support/db-snapshot.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario, SOAK } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/timeouts.test.ts'
const BASE = { '001_busy.sql': 'create table busy (id int primary key, v int);\ninsert into busy values (1, 1);\n' }

interface Attempt {
  readonly error: MigrationError | undefined
  readonly ms: number
}

describe.skipIf(needsServer(server, 'timeouts'))('timeouts', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  /** A database with `busy` migrated, and a second session that can hold locks on it. */
  async function setup(): Promise<{ handle: TestDatabaseHandle; holder: pg.Client; close: () => Promise<void> }> {
    const handle = await databases.create()
    await new MigrationRunner({ db: handle.db, migrationFolder: await migrationFolder(BASE), log: () => {} }).migrate()
    const holder = await connectClient(handle.url!)
    return {
      handle,
      holder,
      close: async () => {
        await holder.end()
        databases.release(handle)
      },
    }
  }

  async function attempt(
    handle: TestDatabaseHandle,
    folder: string,
    options: MigrationRunnerOptions = {},
  ): Promise<Attempt> {
    const started = performance.now()
    const error = await new MigrationRunner({ db: handle.db, migrationFolder: folder, log: () => {}, ...options })
      .migrate()
      .then(
        () => undefined,
        (e: unknown) => e as MigrationError,
      )
    return { error, ms: performance.now() - started }
  }

  async function expectHeldFailure(
    name: string,
    id: string,
    hold: string,
    file: string,
    options: MigrationRunnerOptions,
    expectation: { code: string; says: RegExp; withinMs: number; atLeastMs?: number },
  ): Promise<void> {
    await recordScenario({ id, group: 'Timeouts', scenario: name, file: FILE, testName: name }, async (progress) => {
      const { handle, holder, close } = await setup()
      try {
        const folder = await migrationFolder({ ...BASE, '002_needs_busy.sql': file })
        const before = await snapshotDatabase(handle.db)
        await holder.query('begin')
        await holder.query(hold)
        const { error, ms } = await attempt(handle, folder, options)
        await holder.query('rollback')
        expect(error).toBeInstanceOf(MigrationRunError)
        expect(error!.code).toBe(expectation.code)
        expect(error!.file).toBe('002_needs_busy.sql')
        expect(error!.message).toContain('002_needs_busy.sql')
        expect(error!.message).toMatch(expectation.says)
        expect(ms).toBeLessThan(expectation.withinMs)
        if (expectation.atLeastMs !== undefined) expect(ms).toBeGreaterThanOrEqual(expectation.atLeastMs)
        expect((error as MigrationRunError).results.map((r) => `${r.fileName}:${r.status}`)).toEqual([
          '002_needs_busy.sql:failed',
        ])
        // Nothing of the file remains: not its first statement, not its ledger row.
        expect(await snapshotDatabase(handle.db)).toBe(before)
        progress.notes.push(`failed after ${ms.toFixed(0)} ms: ${error!.code}: ${error!.message}`)

        // Once the other session lets go, the same file applies.
        const retry = await attempt(handle, folder, options)
        expect(retry.error).toBeUndefined()
        progress.trials = 1
      } finally {
        await close()
      }
    })
  }

  const exclusive = 'lock_timeout: ALTER TABLE on a table another session holds ACCESS EXCLUSIVE'
  it(exclusive, () =>
    expectHeldFailure(
      exclusive,
      'timeout-lock-exclusive',
      'lock table busy in access exclusive mode',
      'create table t2 (id int);\nalter table busy add column w int;\n',
      { timeouts: { lockMs: 500 } },
      {
        code: 'LOCK_TIMEOUT',
        says: /lock timeout/,
        // The holder keeps its lock until the test lets go: unbounded, the wait never ends.
        withinMs: 30_000,
      },
    ),
  )

  const rowLock = 'lock_timeout: UPDATE of a row another open transaction has locked'
  it(rowLock, () =>
    expectHeldFailure(
      rowLock,
      'timeout-lock-row',
      'select * from busy where id = 1 for update',
      'create table t2 (id int);\nupdate busy set v = 2 where id = 1;\n',
      { timeouts: { lockMs: 500 } },
      {
        code: 'LOCK_TIMEOUT',
        says: /lock timeout/,
        // The holder keeps its lock until the test lets go: unbounded, the wait never ends.
        withinMs: 30_000,
      },
    ),
  )

  // The default is checked where it takes effect, in the session the file's statements run in;
  // waiting it out costs 10 s, so only the soak run does (the two tests above wait out 500 ms).
  const byDefault = 'lock_timeout: the default is 10 s'
  it(byDefault, async () => {
    await recordScenario(
      { id: 'timeout-lock-default', group: 'Timeouts', scenario: byDefault, file: FILE, testName: byDefault },
      async (progress) => {
        const { handle, close } = await setup()
        try {
          const folder = await migrationFolder({
            ...BASE,
            '002_observe.sql': "create table observed as select current_setting('lock_timeout') as lock_timeout;\n",
          })
          expect((await attempt(handle, folder)).error).toBeUndefined()
          const { rows } = await sql<{ lock_timeout: string }>`select lock_timeout from observed`.execute(handle.db)
          expect(rows).toEqual([{ lock_timeout: '10s' }])
          progress.notes.push("a file's statements run with lock_timeout = 10s when no timeouts.lockMs is given")
          progress.trials = 1
        } finally {
          await close()
        }
      },
    )
  })

  const waitedOut = 'lock_timeout: the default of 10 s, waited out on a held lock'
  if (SOAK) {
    it(waitedOut, { timeout: 60_000 }, () =>
      expectHeldFailure(
        waitedOut,
        'timeout-lock-default-wait',
        'lock table busy in access exclusive mode',
        'alter table busy add column w int;\n',
        {},
        {
          code: 'LOCK_TIMEOUT',
          says: /lock timeout/,
          atLeastMs: 9_900,
          withinMs: 30_000,
        },
      ),
    )
  }

  const statement = 'statement_timeout: a statement running longer than timeouts.statementMs'
  it(statement, async () => {
    await recordScenario(
      { id: 'timeout-statement', group: 'Timeouts', scenario: statement, file: FILE, testName: statement },
      async (progress) => {
        const { handle, close } = await setup()
        try {
          await sql`create table sleep_control (seconds float8)`.execute(handle.db)
          await sql`insert into sleep_control values (60)`.execute(handle.db)
          const folder = await migrationFolder({
            ...BASE,
            '002_slow.sql': 'create table t2 (id int);\nselect pg_sleep(seconds) from sleep_control;\n',
          })
          const before = await snapshotDatabase(handle.db)
          const { error, ms } = await attempt(handle, folder, { timeouts: { statementMs: 500 } })
          expect(error).toBeInstanceOf(MigrationRunError)
          expect([error!.code, error!.file]).toEqual(['STATEMENT_TIMEOUT', '002_slow.sql'])
          expect(error!.message).toMatch(/^002_slow\.sql.*statement timeout/)
          expect(ms).toBeLessThan(30_000) // bound 500 ms; unbounded, the file sleeps 60 s
          expect(await snapshotDatabase(handle.db)).toBe(before)
          progress.notes.push(`failed after ${ms.toFixed(0)} ms: ${error!.code}: ${error!.message}`)
          await sql`update sleep_control set seconds = 0`.execute(handle.db)
          expect((await attempt(handle, folder, { timeouts: { statementMs: 500 } })).error).toBeUndefined()
          progress.trials = 1
        } finally {
          await close()
        }
      },
    )
  })

  const overrides = "statement_timeout: the default (0, no limit) replaces the database's own setting for the files"
  it(overrides, async () => {
    await recordScenario(
      { id: 'timeout-statement-default', group: 'Timeouts', scenario: overrides, file: FILE, testName: overrides },
      async (progress) => {
        const { handle, close } = await setup()
        try {
          // An app database often caps its queries; a migration must not inherit that cap.
          await sql.raw(`alter database "${handle.name}" set statement_timeout = '200ms'`).execute(handle.db)
          const folder = await migrationFolder({
            ...BASE,
            '002_long.sql': 'create table t2 (id int);\nselect pg_sleep(0.6);\n',
          })
          const capped = await attempt(handle, folder, { timeouts: { statementMs: 300 } })
          expect(capped.error?.code).toBe('STATEMENT_TIMEOUT')
          const { error } = await attempt(handle, folder)
          expect(error).toBeUndefined()
          progress.notes.push(
            "with the database's statement_timeout = 200ms, a file sleeping 0.6 s applied under the default, and failed with timeouts.statementMs: 300",
          )
          progress.trials = 1
        } finally {
          await close()
        }
      },
    )
  })

  const optedOut = 'lock_timeout in a -- wukong:no-transaction file: line:column, earlier statements stay'
  it(optedOut, async () => {
    await recordScenario(
      { id: 'timeout-lock-no-transaction', group: 'Timeouts', scenario: optedOut, file: FILE, testName: optedOut },
      async (progress) => {
        const { handle, holder, close } = await setup()
        try {
          const folder = await migrationFolder({
            ...BASE,
            '002_index.sql':
              '-- wukong:no-transaction\ncreate table if not exists t2 (id int);\ncreate index concurrently if not exists busy_v on busy (v);\n',
          })
          // One connection, so that the check of the session's settings below sees the runner's.
          const single = robustKysely(handle.url!, 1)
          await holder.query('begin')
          await holder.query('lock table busy in access exclusive mode')
          const { error, ms } = await attempt(handle, folder, { timeouts: { lockMs: 500 }, db: single })
          await holder.query('rollback')
          expect([error?.code, error?.file, error?.line, error?.column]).toEqual([
            'LOCK_TIMEOUT',
            '002_index.sql',
            3,
            1,
          ])
          expect(error!.message).toMatch(/^002_index\.sql:3:1: .*lock timeout/)
          expect(ms).toBeLessThan(30_000) // the holder never lets go while the runner waits
          // Such a file is not atomic (documented): its first statement stays, its ledger row does not.
          const { rows } = await sql<{ t2: boolean; recorded: boolean }>`
          select to_regclass('t2') is not null as t2, exists (select 1 from schema_versions where version = 2) as recorded`.execute(
            handle.db,
          )
          expect(rows[0]).toEqual({ t2: true, recorded: false })
          // The session's limits were reset: the next statement on that connection is not capped.
          const { rows: settings } = await sql<{ lock_timeout: string; statement_timeout: string }>`
          select current_setting('lock_timeout') as lock_timeout, current_setting('statement_timeout') as statement_timeout`.execute(
            single,
          )
          await single.destroy()
          expect(settings[0]).toEqual({ lock_timeout: '0', statement_timeout: '0' })
          expect((await attempt(handle, folder, { timeouts: { lockMs: 500 } })).error).toBeUndefined()
          progress.notes.push(
            `failed after ${ms.toFixed(0)} ms: ${error!.code}: ${error!.message}; the file's CREATE TABLE stayed (the file is not atomic), its idempotent retry applied`,
          )
          progress.trials = 1
        } finally {
          await close()
        }
      },
    )
  })
})
