// Migrating through a real PgBouncer in transaction pool mode: the hazard of Kysely's session
// lock there, and the transaction-scoped lock that replaces it (20 concurrent migrators; a
// migrator SIGKILLed mid-run).
import { spawn } from 'node:child_process'

import { Kysely, PostgresDialect, sql } from 'kysely'
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  MIGRATION_LOCK_KEY,
  openMigrationDatabase,
  withTransactionScopedMigrationLock,
  type MigrationDatabase,
} from '../src/connect/index.js'
import { MigrationError, SqlFileMigrationProvider } from '../src/index.js'
import { GuardedPool } from '../src/connect/index.js'
import {
  connectClient,
  resolveTestServer,
  serverRequired,
  type TestDatabaseHandle,
} from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { pgBouncerSkipReason, startPgBouncer, type PgBouncer } from './support/pgbouncer.js'

const server = await resolveTestServer()
const skipReason = server.skipReason ?? (serverRequired() ? undefined : pgBouncerSkipReason())
if (skipReason) console.warn(`[pgbouncer.test] skipped: ${skipReason}`)

const KEY_HIGH = Number(MIGRATION_LOCK_KEY >> 32n)
const KEY_LOW = Number(MIGRATION_LOCK_KEY & 0xffffffffn)

/** Backends holding the migration lock, seen from a direct connection. */
async function lockHolders(db: Kysely<unknown>): Promise<{ pid: number; state: string | null; xact: string | null }[]> {
  const { rows } = await sql<{ pid: number; state: string | null; xact: string | null }>`
    select l.pid, a.state, a.xact_start::text as xact from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = ${KEY_HIGH}::int8::oid and l.objid = ${KEY_LOW}::int8::oid and l.objsubid = 1`.execute(db)
  return rows
}

async function column(db: Kysely<unknown>, query: string): Promise<unknown[]> {
  const { rows } = await sql.raw<Record<string, unknown>>(query).execute(db)
  return rows.map((r) => Object.values(r)[0])
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(skipReason)('migrating through PgBouncer (transaction pool mode)', () => {
  let bouncer: PgBouncer
  const handles: TestDatabaseHandle[] = []
  const opened: MigrationDatabase[] = []

  beforeAll(async () => {
    // server_idle_timeout 2 s: the stranded-lock test measures that the hazard lasts exactly
    // until the pooler recycles the backend (600 s by default, and never on a busy pool).
    bouncer = await startPgBouncer({ serverUrl: server.adminUrl!, poolSize: 5, settings: { server_idle_timeout: 2 } })
  })
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close().catch(() => {})))
    await Promise.all(handles.map((h) => h.destroy()))
    await bouncer?.stop()
  })

  async function freshDb(): Promise<TestDatabaseHandle> {
    const handle = await server.createDatabase()
    handles.push(handle)
    return handle
  }

  it("strands Kysely's session lock on a pooled backend: the stock run succeeds, the lock stays until PgBouncer recycles that backend", async () => {
    const handle = await freshDb()
    const pooledUrl = bouncer.url(handle.name)
    const stock = new Kysely({
      dialect: new PostgresDialect({ pool: new GuardedPool({ connectionString: pooledUrl, max: 1 }) }),
    })
    const other = await connectClient(pooledUrl)
    let otherPid = 0
    // Any other client's transaction, here begun exactly while the lock's backend is idle:
    // PgBouncer hands that backend to it, so the Migrator's next statements (and its unlock)
    // run on another backend. On a busy pool this happens by itself.
    const provider: MigrationProvider = {
      getMigrations: async (): Promise<Record<string, Migration>> => ({
        '001_demo': {
          up: async (db) => {
            await other.query('begin')
            otherPid = (await other.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
            await sql`create table demo (id int)`.execute(db)
          },
        },
      }),
    }
    try {
      const { error, results } = await new Migrator({
        db: stock,
        provider,
        disableTransactions: true,
      }).migrateToLatest()
      await other.query('commit')
      // Kysely reports success: nothing tells the caller a lock was left behind.
      expect(error).toBeUndefined()
      expect(results?.map((r) => r.status)).toEqual(['Success'])

      const holders = await lockHolders(handle.db)
      expect(holders).toHaveLength(1)
      // Held by the backend the other client used, idle, outside any transaction: no one owns it.
      expect(holders[0]).toMatchObject({ pid: otherPid, state: 'idle', xact: null })
      // Every migrator that lands on any other backend now waits: a direct one cannot take it.
      expect(await column(handle.db, `select pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) as got`)).toEqual([false])

      // Bounded only by the pooler: released when PgBouncer closes that idle server
      // connection (server_idle_timeout, 2 s here, 600 s by default).
      const started = Date.now()
      const released = await waitFor(
        async () => ((await lockHolders(handle.db)).length === 0 ? Date.now() - started : undefined),
        20_000,
      )
      expect(released).toBeDefined()
      console.info(
        `[pgbouncer.test] stranded session lock released by PgBouncer after ${released} ms (server_idle_timeout = 2 s)`,
      )
    } finally {
      await other.end()
      await stock.destroy()
    }
  })

  it('waits with a bounded, explained LOCK_TIMEOUT while a stranded session lock is held elsewhere', async () => {
    const handle = await freshDb()
    // Strand it for real from a direct session (as the pooled backend above held it).
    const holder = await connectClient(handle.url!)
    await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
    const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    try {
      const target = await openMigrationDatabase({
        url: bouncer.url(handle.name, { pgbouncer: 'true' }),
        env: {},
        timeouts: { lockWaitMs: 1_000 },
      })
      opened.push(target)
      expect(target).toMatchObject({ pooled: true, lock: 'transaction', driver: 'pg' })
      const folder = await migrationFolder(countedFiles(2))
      const started = Date.now()
      const { error } = await new Migrator({
        db: target.db,
        provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
        ...target.migratorOptions,
      }).migrateToLatest()
      // The holder never lets go: without the 1 s bound this would wait forever.
      expect(Date.now() - started).toBeLessThan(30_000)
      expect(error).toBeInstanceOf(MigrationError)
      expect((error as MigrationError).code).toBe('LOCK_TIMEOUT')
      expect((error as MigrationError).message).toContain(`backend pid ${holderPid} (idle, query: `)
      // It gave up cleanly: no file ran, and it holds nothing.
      expect(await column(handle.db, `select count(*)::int from pg_tables where tablename like 't_'`)).toEqual([0])
      expect((await lockHolders(handle.db)).map((h) => h.pid)).toEqual([holderPid])
    } finally {
      await holder.end()
    }
  })

  it('20 concurrent migrators through a pool of 5 server connections converge, each file applied once', async () => {
    const handle = await freshDb()
    const files = 6
    const folder = await migrationFolder(countedFiles(files, (n) => `select pg_sleep(0.05);\n-- file ${n}\n`))
    const url = bouncer.url(handle.name, { pgbouncer: 'true' })
    const targets = await Promise.all(Array.from({ length: 20 }, () => openMigrationDatabase({ url, env: {} })))
    opened.push(...targets)
    expect(new Set(targets.map((t) => t.lock))).toEqual(new Set(['transaction']))

    const started = performance.now()
    const outcomes = await Promise.all(
      targets.map(async (target) => {
        const t0 = performance.now()
        const provider = new SqlFileMigrationProvider({ migrationFolder: folder })
        const result = await new Migrator({ db: target.db, provider, ...target.migratorOptions }).migrateToLatest()
        return { ...result, ms: performance.now() - t0 }
      }),
    )
    const wallMs = performance.now() - started

    expect(outcomes.map((o) => o.error)).toEqual(Array(20).fill(undefined))
    const applied = outcomes.flatMap((o) =>
      (o.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
    )
    expect(applied.sort()).toEqual(
      Array.from({ length: files }, (_, i) => `${String(i + 1).padStart(3, '0')}_step_${i + 1}`),
    )
    expect(await column(handle.db, 'select version from side_effects order by version')).toEqual(
      Array.from({ length: files }, (_, i) => i + 1),
    )
    expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual(
      Array.from({ length: files }, (_, i) => i + 1),
    )
    expect(await column(handle.db, 'select count(*)::int from kysely_migration')).toEqual([files])
    expect(await lockHolders(handle.db)).toEqual([])
    const slowest = Math.max(...outcomes.map((o) => o.ms))
    console.info(
      `[pgbouncer.test] 20 migrators, ${files} files, pool_size 5: all done in ${wallMs.toFixed(0)} ms (slowest ${slowest.toFixed(0)} ms)`,
    )
  })

  it('a migrator SIGKILLed mid-file leaves no lock behind; the next run finishes in seconds and applies nothing twice', async () => {
    const handle = await freshDb()
    // File 2 is in flight (sleeping) when the child dies; its ledger row comes first in its
    // batch, so whether that orphaned statement commits or not, the file is applied once.
    const folder = await migrationFolder(countedFiles(4, (n) => (n === 2 ? 'select pg_sleep(1.5);\n' : '')))
    const url = bouncer.url(handle.name, { pgbouncer: 'true' })
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lock-child.ts', url, folder], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    )
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        if (out.includes('applied 1\n')) resolve()
      })
      child.once('exit', () => reject(new Error(`child ended before applying file 1:\n${out}\n${err}`)))
    })
    expect(out).toContain('lock transaction')
    await new Promise((r) => setTimeout(r, 300)) // file 2 is sleeping now
    expect((await lockHolders(handle.db)).length).toBe(1)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    clearTimeout(watchdog)

    const killed = Date.now()
    const freedAfter = await waitFor(
      async () => ((await lockHolders(handle.db)).length === 0 ? Date.now() - killed : undefined),
      10_000,
    )
    expect(freedAfter).toBeDefined()

    const next = await openMigrationDatabase({ url, env: {} })
    opened.push(next)
    const started = Date.now()
    const { error, results } = await new Migrator({
      db: next.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
      ...next.migratorOptions,
    }).migrateToLatest()
    const nextMs = Date.now() - started
    expect(error).toBeUndefined()
    expect(results?.map((r) => r.migrationName)).toEqual(['002_step_2', '003_step_3', '004_step_4'])
    // A lock stranded on a pooled backend would hold it for the default wait of 300 s.
    expect(nextMs).toBeLessThan(30_000)
    expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3, 4])
    expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual([1, 2, 3, 4])
    expect(await lockHolders(handle.db)).toEqual([])
    console.info(`[pgbouncer.test] after SIGKILL: lock gone in ${freedAfter} ms, next run finished in ${nextMs} ms`)
  })

  it("a Migrator handed a transaction that aborts: Kysely's unlock fails and strands the lock; ours ends with the transaction", async () => {
    const handle = await freshDb()
    const pooled = new Kysely({
      dialect: new PostgresDialect({ pool: new GuardedPool({ connectionString: bouncer.url(handle.name), max: 2 }) }),
    })
    // A migration that aborts the transaction it is given (no savepoint), as hand-written ones may.
    const provider: MigrationProvider = {
      getMigrations: async (): Promise<Record<string, Migration>> => ({
        '001_aborts': { up: async (db) => void (await sql`select 1 / 0`.execute(db)) },
      }),
    }
    try {
      const stock = await pooled
        .transaction()
        .execute((trx) => new Migrator({ db: trx, provider }).migrateToLatest())
        .catch((error: unknown) => ({ error }))
      expect(String(stock.error)).toMatch(/aborted|rolled back|division by zero/i)
      const stranded = await lockHolders(handle.db)
      expect(stranded).toHaveLength(1)
      expect(stranded[0]).toMatchObject({ state: 'idle', xact: null })
      await sql`select pg_terminate_backend(${stranded[0]!.pid})`.execute(handle.db)
      await waitFor(async () => ((await lockHolders(handle.db)).length === 0 ? true : undefined), 5_000)

      const ours = await pooled
        .transaction()
        .execute((trx) => new Migrator({ db: withTransactionScopedMigrationLock(trx), provider }).migrateToLatest())
        .catch((error: unknown) => ({ error }))
      expect(String(ours.error)).toMatch(/aborted|rolled back|division by zero/i)
      expect(await lockHolders(handle.db)).toEqual([])
    } finally {
      await pooled.destroy()
    }
  })

  it("the lock's keep-alive outlasts idle_in_transaction_session_timeout; without it the lost lock is reported, never ignored", async () => {
    const handle = await freshDb()
    await sql
      .raw(`alter database "${handle.name}" set idle_in_transaction_session_timeout = '700ms'`)
      .execute(handle.db)
    const folder = await migrationFolder(countedFiles(3, () => 'select pg_sleep(0.5);\n'))
    const url = bouncer.url(handle.name, { pgbouncer: 'true' })

    const starved = await openMigrationDatabase({ url, env: {}, lockHeartbeatMs: 60_000 })
    opened.push(starved)
    const lost = await new Migrator({
      db: starved.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
      ...starved.migratorOptions,
    }).migrateToLatest()
    expect(lost.error).toBeInstanceOf(MigrationError)
    expect((lost.error as MigrationError).code).toBe('CONNECTION_FAILED')
    expect((lost.error as MigrationError).message).toMatch(/migration lock's connection failed/)
    // The files themselves committed one by one; a re-run only confirms it.
    expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3])

    const handle2 = await freshDb()
    await sql
      .raw(`alter database "${handle2.name}" set idle_in_transaction_session_timeout = '700ms'`)
      .execute(handle2.db)
    const kept = await openMigrationDatabase({
      url: bouncer.url(handle2.name, { pgbouncer: 'true' }),
      env: {},
      lockHeartbeatMs: 200,
    })
    opened.push(kept)
    const ok = await new Migrator({
      db: kept.db,
      provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
      ...kept.migratorOptions,
    }).migrateToLatest()
    expect(ok.error).toBeUndefined()
    expect(ok.results).toHaveLength(3)
  })
})
