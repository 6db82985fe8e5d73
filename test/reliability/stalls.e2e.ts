// A server that stops answering after accepting the connection (a frozen host, a stuck proxy, a
// half-open route): every phase of the tool's own conversation has a bound that ends the run
// with a named error instead of hanging it. The proxy forwards until a chosen moment, then
// nothing, keeping every socket open.
import { afterAll, describe, expect, it } from 'vitest'

import { resolveTestServer } from '../../src/testing/test-server.js'
import { cli, jsonOf } from '../support/cli-process.js'
import { startFreezeProxy } from '../support/freeze-proxy.js'
import { migrationFolder } from '../support/folders.js'
import { recordScenario } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'

const server = await resolveTestServer()
const FILE = 'test/reliability/stalls.e2e.ts'
// Short bounds, so the suite waits seconds: answers to the tool's own queries are awaited
// timeouts.lockMs + 10 s (ANSWER_MARGIN_MS).
const LIMITS = ['--connect-timeout', '2000', '--lock-timeout', '1000']
// A wide bound on each run: its own bound is 2 s or 11 s; the alternative is never.
const ENDS_WITHIN_MS = 60_000

interface Case {
  readonly name: string
  readonly command: 'migrate' | 'status'
  /** `login`, or text of the client message after which the server says nothing more. */
  readonly freezeOn: string
  readonly expected: string
}

const CASES: readonly Case[] = [
  {
    name: 'login: the startup packet gets no answer',
    command: 'migrate',
    freezeOn: 'login',
    expected: 'no answer within 2000 ms while connecting and logging in (connect timeout)',
  },
  {
    name: 'the migration lock request gets no answer',
    command: 'migrate',
    freezeOn: 'pg_try_advisory_lock',
    expected: 'no answer within 11000 ms to the migration lock request',
  },
  {
    name: 'mid-run, under the lock: the ledger snapshot gets no answer',
    command: 'migrate',
    freezeOn: 'pg_backend_pid()',
    expected: "no answer within 11000 ms to the migration tool's own query",
  },
  {
    name: 'status: the ledger read gets no answer',
    command: 'status',
    freezeOn: 'pg_backend_pid()',
    expected: "no answer within 11000 ms to the migration tool's own query",
  },
]

describe.skipIf(server.skipReason || server.tier === 'pglite')('stalls', () => {
  const databases = new TrialDatabases(server)
  afterAll(() => databases.closeAll())

  const stalled = 'a server that stops answering ends the run with CONNECTION_FAILED naming the bound'
  it(stalled, { timeout: 300_000 }, async () => {
    await recordScenario(
      {
        id: 'stall-phases',
        group: 'Stalls',
        scenario: `${stalled} (${CASES.map((c) => c.name).join('; ')})`,
        file: FILE,
        testName: stalled,
      },
      async (progress) => {
        const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
        for (const c of CASES) {
          const handle = await databases.create()
          const proxy = await startFreezeProxy(Number(new URL(handle.url!).port), c.freezeOn)
          try {
            const started = performance.now()
            const run = await cli([
              c.command,
              '--json',
              '--url',
              proxy.url(handle.url!),
              '--dir',
              folder,
              ...LIMITS,
              ...(c.command === 'migrate' ? ['--lock-wait-timeout', '1000'] : []),
            ])
            const took = performance.now() - started
            const doc = jsonOf<{ error: { code: string; message: string; advice: string } }>(run)
            expect(run.code, `${c.name}: ${run.stderr}`).toBe(1)
            expect(proxy.frozen || c.freezeOn === 'login', c.name).toBe(true)
            expect(doc.error.code, c.name).toBe('CONNECTION_FAILED')
            expect(doc.error.message, c.name).toContain(c.expected)
            expect(doc.error.advice, c.name).toContain('did not answer in time')
            expect(took, c.name).toBeLessThan(ENDS_WITHIN_MS)
            progress.notes.push(`${c.name}: exit 1 after ${(took / 1000).toFixed(1)} s, "${c.expected}"`)
            progress.trials++
          } finally {
            await proxy.stop()
            databases.release(handle)
          }
        }
      },
    )
  })
})
