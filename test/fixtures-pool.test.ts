import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'

import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import { dropOrphanedClones } from '../src/testing/clone-pool.js'
import { closeTestDatabases, createTestDatabase, resolveTestServer } from '../src/testing/index.js'
import { cloneName, currentOwner, isOwnerGone, parseOwner, type OwnerMarker } from '../src/connect/owner-marker.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
afterAll(() => closeTestDatabases())

async function databases(like: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: server.adminUrl })
  await admin.connect()
  try {
    return (
      await admin.query<{ datname: string }>('select datname from pg_database where datname like $1 order by 1', [like])
    ).rows.map((r) => r.datname)
  } finally {
    await admin.end()
  }
}

async function createEmpty(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: server.adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

describe('owner markers', () => {
  const me = currentOwner()

  it('round-trip through a database name within PostgreSQL’s 63-byte limit', () => {
    const name = cloneName(me)
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
    expect(parseOwner(name)).toEqual(me)
    expect(parseOwner('wk_test_0123456789ab')).toBeUndefined()
    expect(parseOwner('app_db')).toBeUndefined()
  })

  it('judge gone only owners on this host that certainly ended', () => {
    expect(isOwnerGone(me)).toBe(false)
    const parent: OwnerMarker = { ...me, pid: process.ppid, start: '0' }
    expect(isOwnerGone(parent)).toBe(false) // alive, start time not compared
    expect(isOwnerGone({ ...me, pid: deadPid() })).toBe(true) // no such process
    expect(isOwnerGone({ ...me, start: `${me.start}1` })).toBe(me.start !== '0') // pid reused
    expect(isOwnerGone({ ...me, boot: me.boot === 'ffff' ? 'fffe' : 'ffff' })).toBe(me.boot !== '0000') // rebooted
    // Another host's pid means nothing here, dead or alive.
    expect(isOwnerGone({ ...me, host: me.host === 'ffffff' ? 'fffffe' : 'ffffff', pid: deadPid() })).toBe(false)
  })
})

describe.skipIf(needsServer(server, `the pool of test databases on the ${server.tier} tier`))(
  `the pool of test databases on the ${server.tier} tier`,
  () => {
    it('hands out clones made ahead of time, each with the owner marker of this process', async () => {
      const a = await createTestDatabase()
      const b = await createTestDatabase()
      expect(parseOwner(a.name)).toEqual(currentOwner())
      expect(parseOwner(b.name)).toEqual(currentOwner())
      expect(a.name).not.toBe(b.name)
      expect((await sql<{ n: number }>`select count(*)::int as n from schema_versions`.execute(a.db)).rows[0]?.n).toBe(
        5,
      )
      await a.destroy()
      await b.destroy()
    })

    it('destroy() returns before the drop; closeTestDatabases() waits for it and drops the ready clones', async () => {
      const t = await createTestDatabase()
      await t.destroy()
      await t.destroy() // a second call is harmless
      await closeTestDatabases()
      expect(await databases(`%\\_${process.pid}\\_%`)).toEqual([])
    })

    it('never surfaces a failed drop: a database someone else dropped first, a test that kept a connection checked out', async () => {
      const gone = await createTestDatabase()
      const busy = await createTestDatabase()
      const admin = new pg.Client({ connectionString: server.adminUrl })
      await admin.connect()
      try {
        await admin.query(`DROP DATABASE "${gone.name}" WITH (FORCE)`)
      } finally {
        await admin.end()
      }
      const trx = await busy.db.startTransaction().execute() // never committed: its connection stays checked out
      await trx.selectFrom('sessions').select('id').execute()
      await gone.destroy()
      await busy.destroy()
      await closeTestDatabases()
      expect(await databases(busy.name)).toEqual([])
    })

    it('drops the leftovers of owners that are gone, and only those', async () => {
      const me = currentOwner()
      const other = 'ffffff' === me.host ? 'fffffe' : 'ffffff'
      const dead = cloneName({ ...me, pid: deadPid() })
      const reused = cloneName({ ...me, start: `${me.start}1` })
      const building = cloneName({ ...me, pid: deadPid() }, 'wk_building_')
      const live = cloneName({ ...me, pid: process.ppid, start: '0' })
      const remote = cloneName({ ...me, host: other, pid: deadPid() })
      for (const name of [dead, reused, building, live, remote]) await createEmpty(name)
      try {
        const dropped = await dropOrphanedClones(server.adminUrl!, 60_000)
        const expected = me.start === '0' ? [dead, building] : [dead, reused, building]
        // Other test files on the same server may have left clones of their own, ended since; and
        // their own sweeps (each createTestDatabase starts one) may drop these first.
        const ours = [dead, reused, building, live, remote]
        expect(expected).toEqual(expect.arrayContaining(dropped.filter((name) => ours.includes(name))))
        expect(dropped).not.toContain(live)
        expect(dropped).not.toContain(remote)
        if (me.start === '0') expect(dropped).not.toContain(reused)
        const left = await databases('wk\\_%')
        expect(left).toEqual(expect.arrayContaining([live, remote]))
        for (const name of expected) expect(left).not.toContain(name)
        if (me.start === '0') expect(left).toContain(reused)
      } finally {
        const admin = new pg.Client({ connectionString: server.adminUrl })
        await admin.connect()
        for (const name of [dead, reused, building, live, remote])
          await admin.query(`DROP DATABASE IF EXISTS "${name}"`)
        await admin.end()
      }
    })

    // Clones left behind are looked for by the child's pid: its marker is in every name.
    const childClones = (pid: number): Promise<string[]> => databases(`%\\_${pid}\\_%`)

    /** Polls until `pid` has no clone left on the server; what is left after 30 s. */
    async function clonesAfterExit(pid: number): Promise<string[]> {
      const deadline = Date.now() + 30_000
      let left = await childClones(pid)
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        left = await childClones(pid)
      }
      return left
    }

    // Each case is a process of its own, mostly start-up time: they run side by side.
    describe.concurrent('a process that ends normally drops its clones', () => {
      for (const [how, mode, signal] of [
        ['its event loop empties, without closeTestDatabases()', 'return', undefined],
        ['it calls process.exit(0)', 'exit', undefined],
        ['a test runner stops it with SIGTERM', 'wait', 'SIGTERM'],
        ['Ctrl-C (SIGINT)', 'wait', 'SIGINT'],
      ] as const) {
        it(how, { timeout: 120_000 }, async () => {
          const child = startPoolChild(mode)
          try {
            const { handedOut, names } = await child.line
            expect(names).toContain(handedOut)
            expect(names.length).toBeGreaterThanOrEqual(3)
            if (signal) child.process.kill(signal)
            const code = await child.exited
            expect(code).toEqual(signal ? { code: null, signal } : { code: 0, signal: null })
            expect(await clonesAfterExit(child.process.pid!)).toEqual([])
          } finally {
            child.kill()
          }
        })
      }
    })

    it('a process killed with SIGKILL leaves clones that the next process drops', { timeout: 180_000 }, async () => {
      const killed = startPoolChild('wait')
      try {
        const { handedOut, names } = await killed.line
        expect(names).toContain(handedOut)
        expect(names.length).toBeGreaterThanOrEqual(3) // the one handed out and the ones kept ready
        killed.process.kill('SIGKILL')
        await killed.exited
        expect(await childClones(killed.process.pid!)).toEqual(names.sort())
        // The next run: its first createTestDatabase() sweeps, its closeTestDatabases() waits for it.
        const next = startPoolChild('close')
        try {
          await next.line
          expect(await next.exited).toEqual({ code: 0, signal: null })
        } finally {
          next.kill()
        }
        expect(await childClones(killed.process.pid!)).toEqual([])
      } finally {
        killed.kill()
      }
    })
  },
)

interface PoolChild {
  readonly process: ChildProcess
  /** Its one line: the database handed out and every database of its own at that moment. */
  readonly line: Promise<{ handedOut: string; names: string[] }>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGKILL, unless it has exited. */
  kill(): void
}

/** test/support/pool-child.ts, ending the way `mode` says. */
function startPoolChild(mode: 'wait' | 'return' | 'exit' | 'close'): PoolChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/pool-child.ts', mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const line = new Promise<{ handedOut: string; names: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child printed nothing within 90 s')), 90_000)
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer)
      resolve(JSON.parse(l) as { handedOut: string; names: string[] })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the child exited with ${code} before printing its databases`))
    })
  })
  line.catch(() => {})
  return {
    process: child,
    line,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}
