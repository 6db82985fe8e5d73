// Every file starts from the session state the run started in, whatever the files before it
// SET; the tool's own statements (ledgers) run under that state too; and the runner's limits
// hold for every file.
import { randomBytes } from 'node:crypto'

import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

import { type MigrationError, MigrationRunError, MigrationRunner } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
const roles: string[] = []
afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()))
  if (roles.length && server.adminUrl) {
    const admin = new pg.Client({ connectionString: server.adminUrl })
    await admin.connect()
    for (const role of roles) await admin.query(`drop role if exists ${role}`).catch(() => {})
    await admin.end()
  }
})

async function freshDb(): Promise<TestDatabaseHandle> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle
}

/** A Kysely over ONE connection: what the run leaves on its session is what the next query sees. */
function singleConnection(url: string): Kysely<any> {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  pool.on('error', () => {})
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
}

async function migrate(
  db: Kysely<any>,
  files: Record<string, string>,
  options: { timeouts?: { lockMs: number } } = {},
) {
  return new MigrationRunner({ db, migrationFolder: await migrationFolder(files), log: () => {}, ...options }).migrate()
}

async function schemaOf(db: Kysely<any>, table: string): Promise<string | null> {
  const { rows } = await sql<{ nspname: string }>`
    select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relname = ${table} and c.relkind = 'r'`.execute(db)
  return rows.length === 1 ? rows[0]!.nspname : rows.length === 0 ? null : `${rows.length} tables`
}

async function ledger(db: Kysely<any>): Promise<{ versions: number[]; kysely: string[] }> {
  const v = await sql<{ version: number }>`select version from public.schema_versions order by version`.execute(db)
  const k = await sql<{ name: string }>`select name from public.kysely_migration order by name`.execute(db)
  return { versions: v.rows.map((r) => r.version), kysely: k.rows.map((r) => r.name) }
}

describe.skipIf(needsServer(server, 'a file cannot change the session of the files after it'))(
  'a file cannot change the session of the files after it',
  () => {
    const leaks: Record<string, string> = {
      'SET search_path': 'create schema app;\nset search_path = app, public;\n',
      'set_config(search_path, …, false)':
        "create schema app;\nselect pg_catalog.set_config('search_path', 'app, public', false);\n",
      'SET SESSION search_path': 'create schema app;\nset session search_path to app;\n',
      'a non-atomic file':
        '-- wukong:no-transaction\ncreate schema if not exists app;\nset search_path = app, public;\n',
    }
    for (const [name, first] of Object.entries(leaks)) {
      it(`${name}: the next file's table lands in the same schema in one run as in two`, async () => {
        const files = { '001_app.sql': first, '002_t.sql': 'create table t (id int);\n' }
        const together = await freshDb()
        await migrate(together.db, files)
        const apart = await freshDb()
        await migrate(apart.db, { '001_app.sql': files['001_app.sql'] })
        await migrate(apart.db, files)
        expect(await schemaOf(together.db, 't')).toBe('public')
        expect(await schemaOf(apart.db, 't')).toBe('public')
        expect(await ledger(together.db)).toEqual({ versions: [1, 2], kysely: ['001_app', '002_t'] })
      })
    }

    for (const directive of ['', '-- wukong:no-transaction\n']) {
      it(`a temporary table made by ${directive ? 'a non-atomic' : 'an atomic'} file is gone for the next file, in one run as in two`, async () => {
        const files = {
          '001_scratch.sql': `${directive}create temp table scratch (id int);\ninsert into scratch values (1);\n`,
          '002_use.sql': 'create table kept as select * from scratch;\n',
        }
        const together = await freshDb()
        const one = (await migrate(together.db, files).catch((e: unknown) => e)) as MigrationError
        const apart = await freshDb()
        await migrate(apart.db, { '001_scratch.sql': files['001_scratch.sql'] })
        const two = (await migrate(apart.db, files).catch((e: unknown) => e)) as MigrationError
        for (const error of [one, two]) {
          expect([error.code, error.file, error.line, error.column]).toEqual(['MIGRATION_FAILED', '002_use.sql', 1, 36])
          expect(error.message).toMatch(/relation "scratch" does not exist/)
        }
      })
    }

    it('a pg_dump-style header applies, and leaves search_path as it was', async () => {
      const handle = await freshDb()
      const db = singleConnection(handle.url!)
      try {
        const header = [
          "SET client_encoding = 'UTF8';",
          'SET standard_conforming_strings = on;',
          "SELECT pg_catalog.set_config('search_path', '', false);",
          'SET check_function_bodies = false;',
          'SET client_min_messages = warning;',
          'SET row_security = off;',
          'CREATE TABLE public.dumped (id integer NOT NULL);',
          "INSERT INTO schema_versions (version, description) VALUES (1, 'dumped');",
          '',
        ].join('\n')
        await migrate(db, { '001_dumped.sql': header, '002_after.sql': 'create table after_dump (id int);\n' })
        expect(await schemaOf(db, 'dumped')).toBe('public')
        expect(await schemaOf(db, 'after_dump')).toBe('public')
        const { rows } = await sql<{ path: string; bodies: string; messages: string }>`
        select current_setting('search_path') as path, current_setting('check_function_bodies') as bodies,
               current_setting('client_min_messages') as messages`.execute(db)
        expect(rows[0]).toEqual({ path: '"$user", public', bodies: 'on', messages: 'notice' })
        expect(await ledger(db)).toEqual({ versions: [1, 2], kysely: ['001_dumped', '002_after'] })
      } finally {
        await db.destroy()
      }
    })

    it("SET ROLE in a file: applies (not PERMISSION_DENIED on the ledger), and the next file runs as the run's role", async () => {
      const handle = await freshDb()
      const role = `wk_session_${randomBytes(4).toString('hex')}`
      roles.push(role)
      await sql.raw(`create role ${role} nologin`).execute(handle.db)
      await sql.raw(`grant create, usage on schema public to ${role}`).execute(handle.db)
      const { rows: me } = await sql<{ user: string }>`select current_user as user`.execute(handle.db)
      const db = singleConnection(handle.url!)
      try {
        await migrate(db, {
          '001_as_role.sql': `set role ${role};\ncreate table owned_by_role (id int);\n`,
          '002_mine.sql': 'create table owned_by_runner (id int);\n',
          '003_session.sql': `set session authorization default;\nset role ${role};\nselect 1;\n`,
        })
        const { rows } = await sql<{ relname: string; owner: string }>`
        select relname, pg_get_userbyid(relowner) as owner from pg_class where relname like 'owned_by_%' order by relname`.execute(
          db,
        )
        expect(rows).toEqual([
          { relname: 'owned_by_role', owner: role },
          { relname: 'owned_by_runner', owner: me[0]!.user },
        ])
        const { rows: now } = await sql<{
          user: string
          role: string
        }>`select current_user as user, current_setting('role') as role`.execute(db)
        expect(now[0]).toEqual({ user: me[0]!.user, role: 'none' })
        expect((await ledger(db)).versions).toEqual([1, 2, 3])
      } finally {
        await db.destroy()
      }
    })

    it('settings the session had before the run are what every file starts from, and what it ends with', async () => {
      const handle = await freshDb()
      const db = singleConnection(handle.url!)
      try {
        await sql`set work_mem = '7MB'`.execute(db)
        await sql`set application_name = 'before-the-run'`.execute(db)
        await migrate(db, {
          '001_a.sql':
            "set work_mem = '1MB';\nset application_name = 'file-one';\ncreate table seen (file int, work_mem text, app text);\n",
          '002_b.sql':
            "insert into seen values (2, current_setting('work_mem'), current_setting('application_name'));\n",
        })
        const { rows } = await sql`select * from seen`.execute(db)
        expect(rows).toEqual([{ file: 2, work_mem: '7MB', app: 'before-the-run' }])
        const { rows: after } = await sql<{ w: string }>`select current_setting('work_mem') as w`.execute(db)
        expect(after[0]!.w).toBe('7MB')
      } finally {
        await db.destroy()
      }
    })

    it("a new database's ledger goes to public, not to the connection's search_path, whatever a file sets", async () => {
      const handle = await freshDb()
      await sql`create schema ops`.execute(handle.db)
      const url = new URL(handle.url!)
      url.searchParams.set('options', '-c search_path=ops')
      const db = singleConnection(url.toString())
      try {
        await migrate(db, {
          '001_a.sql': "select pg_catalog.set_config('search_path', 'public', false);\ncreate table a (id int);\n",
          '002_b.sql': 'create table b (id int);\n',
        })
        expect(await schemaOf(handle.db, 'schema_versions')).toBe('public')
        const { rows } = await sql<{
          version: number
        }>`select version from public.schema_versions order by version`.execute(handle.db)
        expect(rows.map((r) => r.version)).toEqual([1, 2])
        expect(await schemaOf(handle.db, 'b')).toBe('ops')
      } finally {
        await db.destroy()
      }
    })
  },
)

describe.skipIf(needsServer(server, "the runner's limits hold for every file"))(
  "the runner's limits hold for every file",
  () => {
    async function blocked(files: Record<string, string>): Promise<MigrationError> {
      const handle = await freshDb()
      await sql`create table busy (id int)`.execute(handle.db)
      const holder = new pg.Client({ connectionString: handle.url! })
      await holder.connect()
      try {
        await holder.query('begin; lock table busy in access exclusive mode')
        const error = await migrate(handle.db, files, { timeouts: { lockMs: 300 } }).catch((e: unknown) => e)
        expect(error, 'the run waited for the lock and applied').toBeInstanceOf(MigrationRunError)
        return error as MigrationError
      } finally {
        await holder.end()
      }
    }

    const earlier: Record<string, string> = {
      'SET lock_timeout = 0': '-- wukong:own-timeouts\nset lock_timeout = 0;\ncreate table a (id int);\n',
      'RESET ALL': '-- wukong:own-timeouts\nreset all;\ncreate table a (id int);\n',
      "set_config('lock_timeout', '0', false)":
        "-- wukong:own-timeouts\nselect set_config('lock_timeout', '0', false);\ncreate table a (id int);\n",
      'a non-atomic file':
        '-- wukong:no-transaction\n-- wukong:own-timeouts\nset lock_timeout = 0;\ncreate table if not exists a (id int);\n',
    }
    for (const [name, first] of Object.entries(earlier)) {
      it(`${name} in one file (declared with -- wukong:own-timeouts) does not switch off timeouts.lockMs for the next`, async () => {
        const error = await blocked({
          '001_a.sql': first,
          '002_lock.sql': 'create table b (id int);\nalter table busy add column x int;\n',
        })
        expect([error.code, error.file]).toEqual(['LOCK_TIMEOUT', '002_lock.sql'])
      })
    }

    it('a file that declares -- wukong:own-timeouts may wait longer than the run allows', async () => {
      const handle = await freshDb()
      await sql`create table busy (id int)`.execute(handle.db)
      const holder = new pg.Client({ connectionString: handle.url! })
      await holder.connect()
      try {
        await holder.query('begin; lock table busy in access exclusive mode')
        const run = migrate(
          handle.db,
          {
            '001_wait.sql':
              "-- wukong:own-timeouts\nset local lock_timeout = '60s';\nalter table busy add column x int;\n",
          },
          { timeouts: { lockMs: 300 } },
        )
        // Released once the file is seen waiting, well past 300 ms: then the file applies.
        for (let i = 0; i < 200; i++) {
          const { rows } = await holder.query<{ n: number }>(
            "select count(*)::int as n from pg_locks where not granted and relation = 'busy'::regclass",
          )
          if (rows[0]!.n > 0) break
          await new Promise((r) => setTimeout(r, 50))
        }
        await new Promise((r) => setTimeout(r, 600))
        await holder.query('commit')
        const result = await run
        expect(result.results.map((r) => r.status)).toEqual(['applied'])
      } finally {
        await holder.end()
      }
    })
  },
)
