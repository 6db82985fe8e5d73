// A migrating process is SIGKILLed at random instants. After each kill the
// ledgers agree with each other and with the catalog, no advisory lock is left, and the next
// run converges without running any file's SQL twice.
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunner } from '../../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import { migrationFolder } from '../support/folders.js'
import {
  advisoryLocks,
  invariantViolations,
  readLedgerState,
  waitForBackendsGone,
  type LedgerState,
} from '../support/ledger-invariants.js'
import { startMigrateChild, type MigrateChild } from '../support/migrate-child-process.js'
import { SLOW_EXPECTED, SLOW_FILES } from '../support/reliability-folders.js'
import { recordScenario, reliabilitySeed, seededRandom, SOAK } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

// A trial is a Node process started, killed and checked (about 2 s here); an ordinary run does
// 20, `npm run test:soak` 300, WUKONG_KILL_TRIALS any number.
const TRIALS = Number(process.env['WUKONG_KILL_TRIALS'] ?? (SOAK ? 300 : 20))
const server = await resolveTestServer()

const files = SLOW_FILES
const expected = SLOW_EXPECTED

describe.skipIf(needsServer(server, 'kill -9'))('kill -9', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())
  let folder: string

  async function prepare(
    trial: number,
    config: { killAfterVersion?: number } = {},
  ): Promise<{ handle: TestDatabaseHandle; child: MigrateChild; app: string }> {
    folder ??= await migrationFolder(files)
    const handle = await databases.create()
    const app = `wk-kill-${trial}`
    const url = `${handle.url!}?application_name=${app}`
    const child = await startMigrateChild({ url, folder, barrier: true, ...config }, { timeoutMs: 60_000 })
    await child.waitFor('ready')
    return { handle, child, app }
  }

  /** After a kill: the invariants, no lock, then a run that converges with nothing run twice. */
  async function checkAfterKill(
    handle: TestDatabaseHandle,
    app: string,
    context: string,
  ): Promise<{ state: LedgerState; orphanMs: number }> {
    const orphanMs = await waitForBackendsGone(handle.db, app)
    expect(await advisoryLocks(handle.db), `${context}: advisory lock left`).toEqual([])
    const state = await readLedgerState(handle.db, expected)
    expect(invariantViolations(state, expected), `${context}: ${JSON.stringify(state)}`).toEqual([])

    const runner = new MigrationRunner({ db: handle.db, migrationFolder: folder, log: () => {} })
    const { results } = await runner.migrate()
    const recorded = new Set(state.schemaVersions)
    const byKysely = new Set(state.kysely)
    // What the next run did to each file it handled: apply what was not committed, heal what
    // was committed but not yet recorded by Kysely, and nothing else.
    expect(
      results.map((r) => `${r.version}:${r.status}`),
      context,
    ).toEqual(
      expected
        .filter((f) => !byKysely.has(f.name))
        .map((f) => `${f.version}:${recorded.has(f.version) ? 'healed' : 'applied'}`),
    )
    const after = await readLedgerState(handle.db, expected)
    expect(invariantViolations(after, expected, { converged: true }), context).toEqual([])
    expect(after.sideEffects, `${context}: a file ran twice or never`).toEqual(expected.map((f) => f.version))
    expect(await advisoryLocks(handle.db), context).toEqual([])
    return { state, orphanMs }
  }

  const randomName = `SIGKILL at a random instant of a run, ${TRIALS} trials`
  it(randomName, { timeout: 60_000 + TRIALS * 15_000 }, async () => {
    const seed = reliabilitySeed()
    const random = seededRandom(seed)
    await recordScenario(
      {
        id: 'kill-9-random',
        group: 'kill -9',
        scenario: `${randomName} (random delay after the release, uniform over 1.2× an unkilled run)`,
        file: 'test/reliability/kill-9.e2e.ts',
        testName: randomName,
        env: { WUKONG_RELIABILITY_SEED: String(seed) },
      },
      async (progress) => {
        // Calibrate: how long an unkilled run takes from release to exit on this machine now.
        const calibration = await prepare(0)
        const t0 = performance.now()
        calibration.child.release()
        const exit = await calibration.child.exited
        const runMs = performance.now() - t0
        expect(exit.code, exit.stderr).toBe(0)
        databases.release(calibration.handle)

        const window = runMs * 1.2
        const histogram = new Map<string, number>()
        let completedBeforeKill = 0
        let orphans = 0
        let maxOrphanMs = 0
        let lagging = 0
        let next = prepare(1)
        for (let trial = 1; trial <= TRIALS; trial++) {
          const { handle, child, app } = await next
          const delay = random() * window
          child.release()
          await new Promise((r) => setTimeout(r, delay))
          child.process.kill('SIGKILL')
          const ended = await child.exited
          // Prepare the next trial while this one is checked (its child waits at the barrier).
          next = trial < TRIALS ? prepare(trial + 1) : next
          const context = `trial ${trial} (seed ${seed}, kill after ${delay.toFixed(0)} ms of ${window.toFixed(0)})`
          if (ended.signal !== 'SIGKILL') {
            expect(ended.code, `${context}: ${ended.stderr.slice(-500)}`).toBe(0)
            completedBeforeKill++
          }
          const { state, orphanMs } = await checkAfterKill(handle, app, context)
          const key = `${state.schemaVersions.length} committed`
          histogram.set(key, (histogram.get(key) ?? 0) + 1)
          if (state.kysely.length < state.schemaVersions.length) lagging++
          if (orphanMs > 25) orphans++
          maxOrphanMs = Math.max(maxOrphanMs, orphanMs)
          databases.release(handle)
          progress.trials = trial
        }
        progress.notes.push(
          `seed ${seed}; an unkilled run took ${runMs.toFixed(0)} ms, kills drawn uniformly in [0, ${window.toFixed(0)}] ms after the release`,
          `files committed when killed: ${[...histogram.entries()]
            .sort()
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')}; ${completedBeforeKill} runs finished before their kill`,
          `${lagging} kills left kysely_migration one file behind schema_versions (healed by the next run); ${orphans} left a backend running on after its client died (up to ${maxOrphanMs} ms, e.g. in pg_sleep)`,
          'after every kill: schema_versions ⇔ catalog, kysely_migration ⊆ schema_versions, no advisory lock; the next run applied or healed exactly the rest and every side effect happened once',
        )
      },
    )
  })

  // The runner commits each file with both ledger rows, so there is no instant at which one
  // ledger has a file the other lacks; the provider under Kysely's Migrator has that window,
  // which provider-apply.test.ts covers. (Files applied in one batch are reported when the
  // batch returns, so a kill at a file's report may find later files committed too.)
  const windowName = 'SIGKILL right after each file is reported committed, at every file: both ledgers agree'
  it(windowName, { timeout: 120_000 }, async () => {
    await recordScenario(
      {
        id: 'kill-9-window',
        group: 'kill -9',
        scenario: windowName,
        file: 'test/reliability/kill-9.e2e.ts',
        testName: windowName,
      },
      async (progress) => {
        for (const file of expected) {
          const { handle, child, app } = await prepare(1000 + file.version, { killAfterVersion: file.version })
          child.release()
          const ended = await child.exited
          expect(ended.signal, ended.stderr).toBe('SIGKILL')
          const { state } = await checkAfterKill(handle, app, `killed after ${file.name} committed`)
          expect(state.schemaVersions).toEqual(
            expect.arrayContaining(expected.filter((f) => f.version <= file.version).map((f) => f.version)),
          )
          expect(state.kysely).toEqual(
            expected.filter((f) => state.schemaVersions.includes(f.version)).map((f) => f.name),
          )
          databases.release(handle)
          progress.trials++
        }
        progress.notes.push(
          'each kill left both ledgers holding the same files, the reported one among them; the next run applied the rest, re-running nothing',
        )
      },
    )
  })
})
