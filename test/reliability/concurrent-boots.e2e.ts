// Many app instances boot at once against a fresh database. Every one must
// exit 0, every file's SQL must run exactly once, and every round must end in the same state.
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunner, type MigrationError } from '../../src/index.js'

import { resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import {
  advisoryLocks,
  invariantViolations,
  readLedgerState,
  stableSnapshot,
  type ExpectedFile,
} from '../support/ledger-invariants.js'
import { migrationFolder } from '../support/folders.js'
import { startMigrateChild, type ChildExit } from '../support/migrate-child-process.js'
import { recordScenario, SOAK } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

// A round costs 16 Node processes starting (about 7 s of a 2-core machine's CPU), so an
// ordinary run does 5 rounds and `npm run test:soak` 100; WUKONG_BOOT_ROUNDS and
// WUKONG_BOOT_PROCESSES size it by hand.
const PROCESSES = Number(process.env['WUKONG_BOOT_PROCESSES'] ?? 16)
const ROUNDS = Number(process.env['WUKONG_BOOT_ROUNDS'] ?? (SOAK ? 100 : 5))
const server = await resolveTestServer()

/**
 * Files of the kinds a boot meets: an extension, a function with its trigger, a view, slow
 * files that widen the race, and a file that writes its own ledger row as the old runner's did.
 * (A waiter next to a holder's CREATE INDEX CONCURRENTLY is covered in waits.test.ts.)
 */
const files: Record<string, string> = {
  '001_side_effects.sql':
    'create table side_effects (version int not null, backend int not null default pg_backend_pid());\ncreate table t1 (id bigint primary key, name text);\ninsert into side_effects (version) values (1);\n',
  '002_vector.sql':
    'create extension if not exists vector;\ncreate table t2 (id bigint primary key, embedding vector(3));\ninsert into side_effects (version) values (2);\n',
  '003_slow.sql':
    'select pg_sleep(0.05);\ncreate table t3 (id bigint primary key references t1 (id));\ninsert into side_effects (version) values (3);\n',
  '004_trigger.sql': [
    'create table t4 (id bigint primary key, touched timestamptz);',
    'create function t4_touch() returns trigger language plpgsql as $$',
    'begin',
    '  new.touched := now();',
    '  return new;',
    'end',
    '$$;',
    'create trigger t4_touch before insert or update on t4 for each row execute function t4_touch();',
    'insert into side_effects (version) values (4);',
    '',
  ].join('\n'),
  '005_index.sql': 'create index t5_name on t1 (name);\ninsert into side_effects (version) values (5);\n',
  '006_own_row.sql':
    "create table t6 (id int);\ninsert into side_effects (version) values (6);\ninsert into schema_versions (version, description) values (6, 'Own row') on conflict (version) do nothing;\n",
  '007_view.sql':
    'create view t7 as select t1.id, t2.embedding from t1 join t2 using (id);\ninsert into side_effects (version) values (7);\n',
  '008_slow_end.sql':
    'create table t8 (id int);\ninsert into side_effects (version) values (8);\nselect pg_sleep(0.02);\n',
}
const expected: ExpectedFile[] = Object.keys(files).map((fileName, i) => ({
  version: i + 1,
  name: fileName.replace(/\.sql$/, ''),
  creates: i + 1 === 5 ? 't5_name' : `t${i + 1}`,
}))

describe.skipIf(needsServer(server, 'concurrent boots'))('concurrent boots', () => {
  const handles: TestDatabaseHandle[] = []
  afterAll(() => Promise.all(handles.map((h) => h.destroy())))

  const testName = `${PROCESSES} processes released at once on a fresh database, ${ROUNDS} rounds`
  it(testName, { timeout: 120_000 + ROUNDS * 30_000 }, async () => {
    const folder = await migrationFolder(files)
    let reference: string | undefined
    await recordScenario(
      {
        id: 'concurrent-boots',
        group: 'Concurrent boots',
        scenario: testName,
        file: 'test/reliability/concurrent-boots.e2e.ts',
        testName,
      },
      async (progress) => {
        const spreads: number[] = []
        const roundMs: number[] = []
        const appliers: number[] = []
        for (let round = 1; round <= ROUNDS; round++) {
          const started = performance.now()
          const handle = await server.createDatabase()
          handles.push(handle)
          const children = await Promise.all(
            Array.from({ length: PROCESSES }, () =>
              startMigrateChild({ url: handle.url!, folder, barrier: true }, { timeoutMs: 90_000 }),
            ),
          )
          await Promise.all(children.map((c) => c.waitFor('ready')))
          for (const child of children) child.release()
          const exits: ChildExit[] = await Promise.all(children.map((c) => c.exited))

          const context = `round ${round}`
          for (const [i, exit] of exits.entries()) {
            const last = exit.events.at(-1)
            expect(exit.timedOut, `${context}, process ${i} hung`).toBe(false)
            expect(
              { code: exit.code, last },
              `${context}, process ${i}: ${JSON.stringify(last)} ${exit.stderr.slice(-1000)}`,
            ).toMatchObject({ code: 0, last: { event: 'done' } })
          }
          const applied = exits.flatMap((e) => e.events.filter((ev) => ev.event === 'applied'))
          // Each file applied by exactly one process; nobody adopted or healed anything.
          expect(applied.map((a) => (a.event === 'applied' ? `${a.version}:${a.kind}` : '')).sort(), context).toEqual(
            expected.map((f) => `${f.version}:applied`),
          )
          appliers.push(new Set(exits.filter((e) => e.events.some((ev) => ev.event === 'applied')).map((e) => e)).size)
          const starts = exits
            .map((e) => e.events.find((ev) => ev.event === 'started'))
            .map((ev) => (ev?.event === 'started' ? ev.at : 0))
          spreads.push(Math.max(...starts) - Math.min(...starts))

          const state = await readLedgerState(handle.db, expected)
          expect(invariantViolations(state, expected, { converged: true }), context).toEqual([])
          expect(state.sideEffects, context).toEqual(expected.map((f) => f.version))
          expect(await advisoryLocks(handle.db), context).toEqual([])
          const snapshot = await stableSnapshot(handle.db)
          reference ??= snapshot
          expect(snapshot, `${context}: final state differs from round 1`).toBe(reference)

          await handle.destroy()
          handles.splice(handles.indexOf(handle), 1)
          progress.trials = round
          roundMs.push(performance.now() - started)
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
        progress.notes.push(
          `${PROCESSES * ROUNDS} of ${PROCESSES * ROUNDS} process runs exited 0; each of the ${expected.length} files applied by exactly one process per round (${expected.length * ROUNDS} applies, 0 duplicates)`,
          `processes that applied at least one file per round: min ${Math.min(...appliers)}, max ${Math.max(...appliers)}`,
          `spread of the release (first to last process starting its migration): median ${median(spreads)} ms, max ${Math.max(...spreads)} ms`,
          `round wall time (spawn 16 processes, migrate, verify): median ${(median(roundMs) / 1000).toFixed(1)} s`,
        )
      },
    )
  })
})

describe.skipIf(needsServer(server, 'concurrent first boots in one process'))(
  'concurrent first boots in one process',
  () => {
    const databases = new TrialDatabases(server)
    afterAll(() => databases.closeAll())

    it('concurrent first boots in one process all succeed (bootstrap retries every race code, 42710 included)', {
      timeout: 120_000,
    }, async () => {
      const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
      for (let round = 1; round <= 30; round++) {
        const handle = await databases.create()
        const runners = Array.from(
          { length: 16 },
          () => new MigrationRunner({ url: handle.url!, migrationFolder: folder, log: () => {} }),
        )
        const outcomes = await Promise.all(
          runners.map((r) =>
            r.migrate().then(
              () => 'ok',
              (e: MigrationError) => `${e.code}: ${e.message}`,
            ),
          ),
        )
        await Promise.all(runners.map((r) => r.close()))
        databases.release(handle)
        expect(
          outcomes.filter((o) => o !== 'ok'),
          `round ${round}`,
        ).toEqual([])
      }
    })
  },
)
