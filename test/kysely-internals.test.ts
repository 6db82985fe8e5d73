import { ensureLedgersSql, ledgerHome } from '../src/provider/ledger.js'
import { Kysely, PostgresAdapter, PostgresDialect, sql, type DatabaseIntrospector, type DialectAdapter } from 'kysely'
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  MIGRATION_LOCK_ID,
  Migrator,
  type Migration,
} from 'kysely/migration'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { KYSELY_MIGRATION_LOCK_KEY, withAdapter, withReplacedMember } from '../src/provider/kysely-internals.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { needsServer } from './support/needs-server.js'

// Each assumption src/provider/kysely-internals.ts makes about the installed Kysely, checked
// against Kysely itself on a real server: a Kysely upgrade that changes one fails here.

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
const dbs: Kysely<unknown>[] = []

async function freshDb(): Promise<Kysely<unknown>> {
  const handle = await server.createDatabase()
  handles.push(handle)
  const pool = new pg.Pool({ connectionString: handle.url, max: 3 })
  pool.on('error', () => {})
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
  dbs.push(db)
  return db
}

const noMigrations = { getMigrations: async (): Promise<Record<string, Migration>> => ({}) }

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.destroy()))
  await Promise.all(handles.map((h) => h.destroy()))
})

describe.skipIf(needsServer(server, "Kysely's internals this package relies on"))(
  "Kysely's internals this package relies on",
  () => {
    let db: Kysely<unknown>
    beforeAll(async () => {
      db = await freshDb()
    })

    it("takes the advisory lock key of Kysely's PostgresAdapter", async () => {
      const high = Number(KYSELY_MIGRATION_LOCK_KEY >> 32n)
      const low = Number(KYSELY_MIGRATION_LOCK_KEY & 0xffffffffn)
      await db.connection().execute(async (conn) => {
        await new PostgresAdapter().acquireMigrationLock(conn, {
          lockTable: DEFAULT_MIGRATION_LOCK_TABLE,
          lockRowId: MIGRATION_LOCK_ID,
        })
        try {
          const { rows } = await sql<{ held: boolean }>`
          select exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()
            and classid = ${high}::int8::oid and objid = ${low}::int8::oid and objsubid = 1) as held`.execute(conn)
          expect(rows[0]?.held).toBe(true)
        } finally {
          await new PostgresAdapter().releaseMigrationLock(conn, {
            lockTable: DEFAULT_MIGRATION_LOCK_TABLE,
            lockRowId: MIGRATION_LOCK_ID,
          })
        }
      })
    })

    it("creates Kysely's bookkeeping tables exactly as its Migrator does", async () => {
      const stock = await freshDb()
      const ours = await freshDb()
      const { error } = await new Migrator({ db: stock, provider: noMigrations }).migrateToLatest()
      expect(error).toBeUndefined()
      await sql.raw(ensureLedgersSql(ledgerHome('public'))).execute(ours)
      const shape = async (target: Kysely<unknown>) => {
        const columns = await sql<Record<string, unknown>>`
        select table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
        from information_schema.columns
        where table_name in (${DEFAULT_MIGRATION_TABLE}, ${DEFAULT_MIGRATION_LOCK_TABLE})
        order by table_name, ordinal_position`.execute(target)
        const keys = await sql<Record<string, unknown>>`
        select c.conrelid::regclass::text as table_name, c.contype, pg_get_constraintdef(c.oid) as def
        from pg_constraint c
        where c.conrelid in (${DEFAULT_MIGRATION_TABLE}::regclass, ${DEFAULT_MIGRATION_LOCK_TABLE}::regclass)
        order by 1, 3`.execute(target)
        const lockRows = await sql<Record<string, unknown>>`
        select id, is_locked from ${sql.table(DEFAULT_MIGRATION_LOCK_TABLE)}`.execute(target)
        return { columns: columns.rows, keys: keys.rows, lockRows: lockRows.rows }
      }
      const expected = await shape(stock)
      expect(expected.columns.length).toBeGreaterThan(0)
      expect(await shape(ours)).toEqual(expected)
    })

    it("asks the instance's introspection, and nothing else, whether its tables exist", async () => {
      const target = await freshDb()
      const calls: string[] = []
      const real = target.introspection
      const counting: DatabaseIntrospector = {
        getSchemas: async () => {
          calls.push('getSchemas')
          return real.getSchemas()
        },
        getTables: async (options) => {
          calls.push('getTables')
          return real.getTables(options)
        },
      }
      const viewed = withReplacedMember(target, 'introspection', counting)
      const { error } = await new Migrator({ db: viewed, provider: noMigrations }).migrateToLatest()
      expect(error).toBeUndefined()
      // Replacing the member reaches the Migrator: it asked our introspector.
      expect(calls).toContain('getTables')
      expect(calls.every((c) => c === 'getTables')).toBe(true)
    })

    it("takes its migration lock through the executor's adapter", async () => {
      const target = await freshDb()
      const inner = target.getExecutor().adapter
      const calls: string[] = []
      class CountingAdapter extends PostgresAdapter {
        override get supportsTransactionalDdl(): boolean {
          return inner.supportsTransactionalDdl ?? false
        }
        override async acquireMigrationLock(
          ...args: Parameters<DialectAdapter['acquireMigrationLock']>
        ): Promise<void> {
          calls.push('acquire')
          return super.acquireMigrationLock(...args)
        }
        override async releaseMigrationLock(
          ...args: Parameters<DialectAdapter['releaseMigrationLock']>
        ): Promise<void> {
          calls.push('release')
          return super.releaseMigrationLock(...args)
        }
      }
      const viewed = withAdapter(target, new CountingAdapter())
      const { error } = await new Migrator({ db: viewed, provider: noMigrations }).migrateToLatest()
      expect(error).toBeUndefined()
      expect(calls).toEqual(['acquire', 'release'])
    })
  },
)
