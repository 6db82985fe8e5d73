// The migrating backend is terminated (pg_terminate_backend: an administrator,
// a failover, a pooler recycling connections) in the middle of a file. The run fails with
// CONNECTION_FAILED, nothing of the file remains, no lock is left, and a retry converges.
// The same at a random instant, trial after trial: dropped-connection-trials.e2e.ts.
//
// The runner is handed a Kysely instance whose pool listens for client errors, as an app's
// must; the runner's own pool (the `url` option) is covered at the end.
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunError, MigrationRunner } from '../../src/index.js'
import { resolveTestServer } from '../../src/testing/test-server.js'
import {
  backendsOf,
  terminate,
  waitForBackend,
  waitForPidsGone,
  withApplicationName,
} from '../support/backend-probe.js'
import { migrationFolder } from '../support/folders.js'
import { startMigrateChild } from '../support/migrate-child-process.js'
import { advisoryLocks, invariantViolations, readLedgerState, type ExpectedFile } from '../support/ledger-invariants.js'
import { recordScenario } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/dropped-connection.test.ts'

describe.skipIf(needsServer(server, 'dropped connection'))('dropped connection', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const midFile = 'pg_terminate_backend in the middle of a file'
  it(midFile, async () => {
    await recordScenario(
      {
        id: 'drop-mid-file',
        group: 'Dropped connection',
        scenario: `${midFile} (during its pg_sleep, after its CREATE TABLE and INSERT)`,
        file: FILE,
        testName: midFile,
      },
      async (progress) => {
        const handle = await databases.create()
        const files = {
          '001_first.sql':
            'create table side_effects (version int not null);\ncreate table t1 (id int);\ninsert into side_effects values (1);\n',
          // Sleeps as long as the test's control table says: 30 s the first time, 0 on the retry.
          '002_interrupted.sql':
            'create table t2 (id int);\ninsert into side_effects values (2);\nselect pg_sleep(seconds) from drop_control;\ncreate table t2b (id int);\n',
        }
        const expected: ExpectedFile[] = [
          { version: 1, name: '001_first', creates: 't1' },
          { version: 2, name: '002_interrupted', creates: 't2' },
        ]
        const app = 'wk-drop-mid-file'
        await sql`create table drop_control (seconds float8)`.execute(handle.db)
        await sql`insert into drop_control values (60)`.execute(handle.db)
        const db = robustKysely(withApplicationName(handle.url!, app))
        try {
          const runner = new MigrationRunner({ db, migrationFolder: await migrationFolder(files), log: () => {} })
          const started = performance.now()
          const run = runner.migrate().then(
            () => undefined,
            (error: unknown) => error,
          )
          const victim = await waitForBackend(handle.db, app, (b) => b.waitEvent === 'PgSleep')
          expect(await terminate(handle.db, victim.pid)).toBe(true)
          const error = await run
          const elapsed = performance.now() - started
          expect(error).toBeInstanceOf(MigrationRunError)
          expect(error).toBeInstanceOf(MigrationError)
          expect((error as MigrationError).code).toBe('CONNECTION_FAILED')
          expect(elapsed).toBeLessThan(30_000) // it did not wait out the pg_sleep(60)

          await waitForPidsGone(handle.db, [victim.pid])
          expect((await backendsOf(handle.db, app)).filter((b) => b.state !== 'idle')).toEqual([])
          expect(await advisoryLocks(handle.db)).toEqual([])
          const state = await readLedgerState(handle.db, expected)
          expect(state).toEqual({ schemaVersions: [1], kysely: ['001_first'], inCatalog: [1], sideEffects: [1] })
          expect(invariantViolations(state, expected)).toEqual([])
          progress.notes.push(`error: ${(error as MigrationError).code}: ${(error as Error).message}`)

          // The same runner (its pool dropped the dead client) converges; 002's SQL ran once.
          await sql`update drop_control set seconds = 0`.execute(handle.db)
          const retry = await runner.migrate()
          expect(retry.results.map((r) => `${r.fileName}:${r.status}`)).toEqual(['002_interrupted.sql:applied'])
          const after = await readLedgerState(handle.db, expected)
          expect(invariantViolations(after, expected, { converged: true })).toEqual([])
          expect(after.sideEffects).toEqual([1, 2])
          progress.trials = 1
        } finally {
          await db.destroy()
          databases.release(handle)
        }
      },
    )
  })
})

describe.skipIf(needsServer(server, 'dropped connection: the runner’s own pool and the boot read'))(
  'dropped connection: the runner’s own pool and the boot read',
  () => {
    const databases = new TrialDatabases(server)
    afterAll(() => databases.closeAll())

    it('a connection dropped mid-file through the url option fails the run, it does not crash the process', {
      timeout: 60_000,
    }, async () => {
      const handle = await databases.create()
      const folder = await migrationFolder({ '001_slow.sql': 'create table t (id int);\nselect pg_sleep(30);\n' })
      const app = 'wk-b3'
      const child = await startMigrateChild({ url: withApplicationName(handle.url!, app), folder })
      const victim = await waitForBackend(handle.db, app, (b) => b.waitEvent === 'PgSleep')
      await terminate(handle.db, victim.pid)
      const exit = await child.exited
      // Was: exit 1 with no result line, stderr "Unhandled 'error' event … Connection terminated unexpectedly".
      expect({ last: exit.events.at(-1), stderr: exit.stderr.split('\n').find((l) => /Error/.test(l)) }).toMatchObject({
        last: { event: 'failed', code: 'CONNECTION_FAILED' },
      })
    })

    it('a connection terminated while the runner reads the ledger (and again on its retry) is CONNECTION_FAILED', async () => {
      const handle = await databases.create()
      const folder = await migrationFolder({
        '001_a.sql': 'create table a (id int);\n',
        '002_b.sql': 'create table b (id int);\n',
      })
      await new MigrationRunner({
        db: handle.db,
        migrationFolder: await migrationFolder({ '001_a.sql': 'create table a (id int);\n' }),
        log: () => {},
      }).migrate()
      // Hold the ledger so that the runner's first query (the up-to-date comparison) waits, then end it.
      const holder = new pg.Client({ connectionString: handle.url })
      await holder.connect()
      await holder.query('begin')
      await holder.query('lock table schema_versions in access exclusive mode')
      const app = 'wk-b4'
      const db = robustKysely(withApplicationName(handle.url!, app))
      const run = new MigrationRunner({ db, migrationFolder: folder, timeouts: { lockMs: 30_000 }, log: () => {} })
        .migrate()
        .then(
          () => undefined,
          (e: unknown) => e as MigrationError,
        )
      // The boot read is retried once on a new connection (a pool may hand out a dead one):
      // end both attempts, as a failover that keeps failing would.
      const waiting = await waitForBackend(handle.db, app, (b) => b.waitEvent === 'relation')
      await terminate(handle.db, waiting.pid)
      const retried = await waitForBackend(handle.db, app, (b) => b.waitEvent === 'relation' && b.pid !== waiting.pid)
      await terminate(handle.db, retried.pid)
      const error = await run
      await holder.end()
      await db.destroy()
      expect([error?.code, error?.message]).toEqual(['CONNECTION_FAILED', expect.any(String)])
    })
  },
)
