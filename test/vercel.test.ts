// @vercel/postgres-kysely end to end on kysely 0.29: queries over a WebSocket (Neon's serverless
// driver) through a local WebSocket-to-TCP proxy to the real server, and migrations that keep
// every invariant although the driver has no Kysely transactions.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Kysely, sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createDatabase, openMigrationDatabase, type MigrationDatabase } from '../src/connect/index.js'
import { MigrationError, SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, serverRequired, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { pgBouncerSkipReason, startPgBouncer, type PgBouncer } from './support/pgbouncer.js'
import { wukongFolder, type LedgerTables } from './support/wukong-files.js'
import { startWsProxy, type WsProxy } from './support/ws-proxy.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
if (server.skipReason) console.warn(`[vercel.test] skipped: ${server.skipReason}`)
const bouncerSkip = serverRequired() ? undefined : pgBouncerSkipReason()

/** The URL the Vercel driver accepts for a local server: `localhost` (else it wants a `-pooler.` host). */
function localhostUrl(url: string): string {
  const u = new URL(url)
  u.hostname = 'localhost'
  return u.toString()
}

async function column(db: Kysely<unknown>, query: string): Promise<unknown[]> {
  const { rows } = await sql.raw<Record<string, unknown>>(query).execute(db)
  return rows.map((r) => Object.values(r)[0])
}

describe.skipIf(needsServer(server, '@vercel/postgres-kysely over a WebSocket proxy'))(
  '@vercel/postgres-kysely over a WebSocket proxy',
  () => {
    let proxy: WsProxy
    const handles: TestDatabaseHandle[] = []
    const opened: { close(): Promise<void> }[] = []

    beforeAll(async () => {
      proxy = await startWsProxy()
    })
    afterAll(async () => {
      await Promise.all(opened.map((o) => o.close().catch(() => {})))
      await Promise.all(handles.map((h) => h.destroy()))
      await proxy?.stop()
    })

    async function freshDb(): Promise<TestDatabaseHandle> {
      const handle = await server.createDatabase()
      handles.push(handle)
      return handle
    }

    async function openVercel(url: string): Promise<MigrationDatabase> {
      const target = await openMigrationDatabase({ url, env: {}, driver: 'vercel', neon: proxy.neon })
      opened.push(target)
      return target
    }

    it('runs on kysely 0.29 (the override), answers typed queries, and refuses transactions as documented', async () => {
      // The override makes @vercel/postgres-kysely import the very kysely we use (one module,
      // one Kysely class), although its peer range stops at 0.27.
      const theirs = createRequire(fileURLToPath(import.meta.resolve('@vercel/postgres-kysely'))).resolve('kysely')
      const ours = createRequire(import.meta.url).resolve('kysely')
      expect(theirs).toBe(ours)
      const { version } = JSON.parse(
        await readFile(
          join(
            ours.slice(0, ours.lastIndexOf('/node_modules/kysely/') + '/node_modules/kysely/'.length),
            'package.json',
          ),
          'utf8',
        ),
      ) as { version: string }
      expect(version).toMatch(/^0\.29\./)

      const handle = await freshDb()
      const db = await createDatabase({ driver: 'vercel', url: localhostUrl(handle.url!), neon: proxy.neon })
      opened.push({ close: () => db.destroy() })
      expect(db).toBeInstanceOf(Kysely)
      expect(db.getExecutor().adapter.supportsTransactionalDdl).toBe(false)

      const { rows } = await sql<{
        pid: number
        version: string
      }>`select pg_backend_pid() as pid, current_setting('server_version') as version`.execute(db)
      expect(rows[0]!.version).toMatch(/^15\./)
      expect(proxy.openConnections).toBeGreaterThan(0) // it really went through the WebSocket

      await sql`create table schema_versions (version int primary key, description text not null, applied_at timestamptz default now(), checksum text)`.execute(
        db,
      )
      const typed = db.withTables<LedgerTables>()
      await typed.insertInto('schema_versions').values({ version: 1, description: 'one', checksum: null }).execute()
      const ledger = await typed
        .selectFrom('schema_versions')
        .select(['version', 'description'])
        .where('version', '>=', 1)
        .execute()
      expect(ledger).toEqual([{ version: 1, description: 'one' }])

      await expect(db.transaction().execute(async () => {})).rejects.toThrow(/kysely_transactions_not_supported/)
    })

    it('survives the network dropping its idle connections (no uncaught error; the next query reconnects)', async () => {
      const handle = await freshDb()
      const db = await createDatabase({ driver: 'vercel', url: localhostUrl(handle.url!), neon: proxy.neon })
      opened.push({ close: () => db.destroy() })
      await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`.execute(db)))
      expect(proxy.openConnections).toBeGreaterThan(0)
      proxy.dropAll()
      await new Promise((r) => setTimeout(r, 100)) // the idle clients see their sockets close
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
      expect(rows).toEqual([{ one: 1 }])
    })

    it('migrates a fresh database with the package files (transaction-scoped lock), and a re-run is a no-op', async () => {
      const handle = await freshDb()
      const { folder, count } = await wukongFolder()
      const target = await openVercel(localhostUrl(handle.url!))
      expect(target).toMatchObject({
        driver: 'vercel',
        lock: 'transaction',
        migratorOptions: { disableTransactions: true },
      })
      const migrator = new Migrator({
        db: target.db,
        provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
        ...target.migratorOptions,
      })
      const first = await migrator.migrateToLatest()
      expect(first.error).toBeUndefined()
      expect(first.results).toHaveLength(count)
      expect((await migrator.migrateToLatest()).results).toEqual([])
      const versions = await target.db
        .withTables<LedgerTables>()
        .selectFrom('schema_versions')
        .select('version')
        .orderBy('version')
        .execute()
      expect(versions).toHaveLength(count)
      expect(await column(handle.db, 'select count(*)::int from kysely_migration')).toEqual([count])
    })

    it('a failing file leaves nothing of itself: no table, no side effect, no ledger row, no Kysely row', async () => {
      const handle = await freshDb()
      const files = countedFiles(1)
      files['002_breaks.sql'] =
        'create table t2 (id int);\ninsert into side_effects (version) values (2);\nselect 1 / 0;\n'
      const folder = await migrationFolder(files)
      const target = await openVercel(localhostUrl(handle.url!))
      const { error, results } = await new Migrator({
        db: target.db,
        provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
        ...target.migratorOptions,
      }).migrateToLatest()
      expect(error).toBeInstanceOf(MigrationError)
      expect(error).toMatchObject({ file: '002_breaks.sql', line: 3 })
      expect(results?.map((r) => [r.migrationName, r.status])).toEqual([
        ['001_step_1', 'Success'],
        ['002_breaks', 'Error'],
      ])
      expect(await column(handle.db, "select to_regclass('t2')::text")).toEqual([null])
      expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1])
      expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual([1])
      expect(await column(handle.db, 'select name from kysely_migration order by name')).toEqual(['001_step_1'])
    })

    it('two concurrent migrators converge, each file applied once', async () => {
      const handle = await freshDb()
      const folder = await migrationFolder(countedFiles(5, () => 'select pg_sleep(0.05);\n'))
      const url = localhostUrl(handle.url!)
      const targets = await Promise.all([openVercel(url), openVercel(url)])
      const outcomes = await Promise.all(
        targets.map((t) =>
          new Migrator({
            db: t.db,
            provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
            ...t.migratorOptions,
          }).migrateToLatest(),
        ),
      )
      expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined])
      const applied = outcomes.flatMap((o) => (o.results ?? []).map((r) => r.migrationName))
      expect(applied.sort()).toEqual(['001_step_1', '002_step_2', '003_step_3', '004_step_4', '005_step_5'])
      expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3, 4, 5])
      expect(await column(handle.db, 'select version from schema_versions order by version')).toEqual([1, 2, 3, 4, 5])
    })

    describe.skipIf(bouncerSkip)('behind PgBouncer, as on Vercel (WebSocket → pooler)', () => {
      let bouncer: PgBouncer
      beforeAll(async () => {
        bouncer = await startPgBouncer({ serverUrl: server.adminUrl!, poolSize: 3 })
      })
      afterAll(() => bouncer?.stop())

      it('six concurrent Vercel-driver migrators through a pool of 3 converge, each file applied once, no lock left', async () => {
        const handle = await freshDb()
        const folder = await migrationFolder(countedFiles(4, () => 'select pg_sleep(0.05);\n'))
        const url = localhostUrl(bouncer.url(handle.name))
        const targets = await Promise.all(Array.from({ length: 6 }, () => openVercel(url)))
        const outcomes = await Promise.all(
          targets.map((t) =>
            new Migrator({
              db: t.db,
              provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
              ...t.migratorOptions,
            }).migrateToLatest(),
          ),
        )
        expect(outcomes.map((o) => o.error)).toEqual(Array(6).fill(undefined))
        expect(await column(handle.db, 'select version from side_effects order by version')).toEqual([1, 2, 3, 4])
        expect(await column(handle.db, 'select count(*)::int from kysely_migration')).toEqual([4])
        expect(
          await column(
            handle.db,
            "select count(*)::int from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
          ),
        ).toEqual([0])
      })
    })
  },
)
