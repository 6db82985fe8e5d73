// The migrating backends are terminated (pg_terminate_backend) at a random instant of a run,
// trial after trial: a long reliability trial, so part of `npm run test:e2e` (the single,
// deterministic cases are in dropped-connection.test.ts). Every run ends with CONNECTION_FAILED
// or completes; the invariants hold, no lock is left and a retry converges.
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunner } from '../../src/index.js'
import { resolveTestServer } from '../../src/testing/test-server.js'
import {
  backendsOf,
  terminate,
  waitForBackend,
  waitForPidsGone,
  withApplicationName,
} from '../support/backend-probe.js'
import { migrationFolder } from '../support/folders.js'
import { advisoryLocks, invariantViolations, readLedgerState } from '../support/ledger-invariants.js'
import { needsServer } from '../support/needs-server.js'
import { SLOW_EXPECTED, SLOW_FILES } from '../support/reliability-folders.js'
import { recordScenario, reliabilitySeed, seededRandom, SOAK } from '../support/reliability-results.js'
import { robustKysely } from '../support/robust-kysely.js'
import { TrialDatabases } from '../support/trial-databases.js'

const TRIALS = Number(process.env['WUKONG_DROP_TRIALS'] ?? (SOAK ? 150 : 25))
const server = await resolveTestServer()
const FILE = 'test/reliability/dropped-connection-trials.e2e.ts'

describe.skipIf(needsServer(server, 'dropped connection: trials'))('dropped connection: trials', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const randomName = `pg_terminate_backend at a random instant of a run, ${TRIALS} trials`
  it(randomName, { timeout: 60_000 + TRIALS * 10_000 }, async () => {
    const seed = reliabilitySeed()
    const random = seededRandom(seed)
    await recordScenario(
      {
        id: 'drop-random',
        group: 'Dropped connection',
        scenario: `${randomName} (every backend of the runner, uniform over 1.2× an undisturbed run)`,
        file: FILE,
        testName: randomName,
        env: { WUKONG_RELIABILITY_SEED: String(seed) },
      },
      async (progress) => {
        const folder = await migrationFolder(SLOW_FILES)
        // Calibrate on an undisturbed run, timed from its first backend's appearance.
        const calibration = await databases.create()
        const calibrationDb = robustKysely(withApplicationName(calibration.url!, 'wk-drop-0'))
        const calibrating = new MigrationRunner({ db: calibrationDb, migrationFolder: folder, log: () => {} }).migrate()
        await waitForBackend(calibration.db, 'wk-drop-0', () => true)
        const t0 = performance.now()
        await calibrating
        const window = (performance.now() - t0) * 1.2
        await calibrationDb.destroy()
        databases.release(calibration)
        let landed = 0

        const outcomes = new Map<string, number>()
        for (let trial = 1; trial <= TRIALS; trial++) {
          const handle = await databases.create()
          const app = `wk-drop-${trial}`
          const db = robustKysely(withApplicationName(handle.url!, app))
          const context = `trial ${trial} (seed ${seed})`
          try {
            const runner = new MigrationRunner({ db, migrationFolder: folder, log: () => {} })
            const run = runner.migrate().then(
              () => undefined,
              (error: unknown) => error,
            )
            await waitForBackend(handle.db, app, () => true)
            await new Promise((r) => setTimeout(r, random() * window))
            const victims = await backendsOf(handle.db, app)
            await Promise.all(victims.map((v) => terminate(handle.db, v.pid)))
            if (victims.some((v) => v.state === 'active')) landed++
            const error = await run
            const outcome =
              error === undefined
                ? 'completed'
                : error instanceof MigrationError
                  ? error.code
                  : `not a MigrationError: ${String(error)}`
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
            // A terminated backend is a lost connection, wherever the runner was.
            if (error !== undefined) expect(outcome, `${context}: ${(error as Error).stack}`).toBe('CONNECTION_FAILED')

            await waitForPidsGone(
              handle.db,
              victims.map((v) => v.pid),
            )
            expect(await advisoryLocks(handle.db), context).toEqual([])
            const state = await readLedgerState(handle.db, SLOW_EXPECTED)
            expect(invariantViolations(state, SLOW_EXPECTED), `${context}: ${JSON.stringify(state)}`).toEqual([])
            const retry = await runner.migrate().then(
              () => undefined,
              (e: unknown) => e as Error,
            )
            expect(
              retry,
              `${context}: the retry failed after ${outcome}, victims ${victims.map((v) => `${v.pid}:${v.state}:${v.query.slice(0, 60)}`).join(' | ')}: ${retry?.stack} ${String((retry?.cause as Error | undefined)?.stack)}`,
            ).toBeUndefined()
            const after = await readLedgerState(handle.db, SLOW_EXPECTED)
            expect(invariantViolations(after, SLOW_EXPECTED, { converged: true }), context).toEqual([])
            expect(after.sideEffects, context).toEqual(SLOW_EXPECTED.map((f) => f.version))
          } finally {
            await db.destroy()
            databases.release(handle)
          }
          progress.trials = trial
        }
        progress.notes.push(
          `seed ${seed}; terminations drawn uniformly in [0, ${window.toFixed(0)}] ms after the runner's first backend appeared; ${landed} landed on a backend running a statement`,
          `outcomes: ${[...outcomes.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}; after each: invariants held, no advisory lock, the retry converged with every side effect once`,
        )
      },
    )
  })
})
