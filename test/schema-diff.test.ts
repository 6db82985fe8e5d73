import { spawn, spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  DEFAULT_MIGRATION_FOLDER,
  MigrationError,
  MigrationRunner,
  SqlFileMigrationProvider,
  type SchemaDiff,
} from '../src/index.js'
import { readSchemaCatalog, type SchemaDifference } from '../src/schema-diff/index.js'
import {
  createTestDatabase,
  kyselyForUrl,
  resolveTestServer,
  type TestDatabase,
  type TestDatabaseHandle,
} from '../src/testing/index.js'
import { withDatabase } from '../src/testing/test-server.js'
import { cloneName, currentOwner } from '../src/connect/owner-marker.js'
import { openShadowDatabase } from '../src/schema-diff/shadow-database.js'
import { BIN, cliEnv, ROOT } from './support/cli-process.js'
import { migrationFolder } from './support/folders.js'
import { runCliHere } from './support/run-cli-in-process.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()

// The Wukong files plus objects the Wukong schema has none of: an enum, a trigger function, a
// trigger and a view, so that changes to each can be made out of band.
const EXTRAS = `CREATE TYPE agent_mood AS ENUM ('calm', 'busy');
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END
$$;
CREATE TRIGGER todos_touch BEFORE UPDATE ON todos FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE VIEW live_sessions AS SELECT id, goal FROM sessions WHERE NOT is_deleted;
`

async function wukongPlus(extra: Record<string, string>): Promise<string> {
  const files = await new SqlFileMigrationProvider().loadFiles()
  const own = Object.fromEntries(files.map((f) => [f.fileName, f.text]))
  return migrationFolder({ ...own, ...extra })
}

/** A difference as one line: what a reader of the report would check. */
function line(d: SchemaDifference): string {
  const fields = d.fields
    .map((f) => `${f.field}: ${JSON.stringify(f.expected)} → ${JSON.stringify(f.actual)}`)
    .join('; ')
  return `${d.change} ${d.kind} ${d.table ? `${d.table} ` : ''}${d.name}${fields ? ` (${fields})` : ''}`
}

async function diff(url: string, folder: string, options: { shadowUrl?: string } = {}): Promise<SchemaDiff> {
  const runner = new MigrationRunner({ url, migrationFolder: folder, log: () => {} })
  try {
    return await runner.diff(options)
  } finally {
    await runner.close()
  }
}

async function shadowsLeft(): Promise<string[]> {
  const admin = kyselyForUrl(server.adminUrl!, 1)
  try {
    const { rows } = await sql<{
      datname: string
    }>`select datname from pg_database where datname like 'wk\\_shadow\\_%'`.execute(admin)
    return rows.map((r) => r.datname)
  } finally {
    await admin.destroy()
  }
}

describe.skipIf(needsServer(server, 'diff: the live catalog against what its applied files build'))(
  'diff: the live catalog against what its applied files build',
  { timeout: 120_000 },
  () => {
    let folder: string
    let live: TestDatabase
    beforeAll(async () => {
      folder = await wukongPlus({ '006_extras.sql': EXTRAS })
      live = await createTestDatabase({ migrationFolder: folder })
    })
    afterAll(() => live?.destroy())

    it('reports nothing on a freshly migrated database, and drops its shadow', async () => {
      const result = await diff(live.url!, folder)
      expect(result.differences).toEqual([])
      expect(result).toMatchObject({ inSync: true, currentVersion: 6, missingVersions: [], editedFiles: [] })
      expect(result.builtFiles).toHaveLength(6)
      expect(result.shadow.created).toBe(true)
      expect(await shadowsLeft()).toEqual([])
    })

    it('reports each out-of-band change exactly, and nothing else', async () => {
      const db = live.db
      await sql
        .raw(`
      ALTER TABLE sessions ADD COLUMN mood agent_mood;
      ALTER TABLE todos DROP COLUMN priority;
      ALTER TABLE parallel_tool_calls ALTER COLUMN max_retries SET DEFAULT 5;
      DROP INDEX idx_steps_action;
      CREATE TABLE scratch_notes (id integer PRIMARY KEY, note text);
      CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
          NEW.updated_at = clock_timestamp();
          RETURN NEW;
      END
      $$;
      DROP TRIGGER todos_touch ON todos;
      ALTER TYPE agent_mood ADD VALUE 'asleep';
      INSERT INTO sessions (id, goal) VALUES ('s', 'g');
      INSERT INTO todos (id, session_id, title, order_index) VALUES ('t1', 's', 'a', 1), ('t2', 's', 'b', 1);
      DROP INDEX idx_todos_order;`)
        .execute(db)
      // An interrupted rebuild: CREATE INDEX CONCURRENTLY fails (duplicates) and leaves the index
      // INVALID under its name.
      await expect(
        sql`CREATE UNIQUE INDEX CONCURRENTLY idx_todos_order ON todos (session_id, order_index)`.execute(db),
      ).rejects.toThrow(/could not create unique index/)

      const result = await diff(live.url!, folder)
      expect(result.inSync).toBe(false)
      expect(result.differences.map(line).sort()).toEqual(
        [
          'added column public.sessions mood',
          'dropped column public.todos priority',
          'changed column public.parallel_tool_calls max_retries (default: "3" → "5")',
          'dropped index public.steps idx_steps_action',
          'changed index public.todos idx_todos_order (definition: "CREATE INDEX idx_todos_order ON public.todos USING btree (session_id, order_index)" → "CREATE UNIQUE INDEX idx_todos_order ON public.todos USING btree (session_id, order_index)"; ready: true → false; valid: true → false)',
          'added table scratch_notes',
          'changed function touch_updated_at() (definition: ' +
            JSON.stringify(
              'CREATE OR REPLACE FUNCTION public.touch_updated_at()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n    NEW.updated_at = now();\n    RETURN NEW;\nEND\n$function$\n',
            ) +
            ' → ' +
            JSON.stringify(
              'CREATE OR REPLACE FUNCTION public.touch_updated_at()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\n      BEGIN\n          NEW.updated_at = clock_timestamp();\n          RETURN NEW;\n      END\n      $function$\n',
            ) +
            ')',
          'dropped trigger public.todos todos_touch',
          'changed enum agent_mood (values: ["calm","busy"] → ["calm","busy","asleep"])',
        ].sort(),
      )
      // The added table is one difference: its columns, key and index are not listed again.
      expect(result.differences.filter((d) => d.table === 'public.scratch_notes')).toEqual([])
      expect(await shadowsLeft()).toEqual([])
    })

    it('prints the differences grouped by object (+ - ~), exits 3, and gives the same structure with --json', async () => {
      const human = await runCliHere(['diff', '--url', live.url!, '--dir', folder])
      expect(human.code).toBe(3)
      const text = human.stdout
      expect(text).toContain('table public.todos\n  - column priority  integer default 0\n')
      expect(text).toContain('  ~ index idx_todos_order  ready: true → false; valid: true → false\n      definition:\n')
      expect(text).toContain('table public.scratch_notes\n  + table\n')
      expect(text).toContain('enum public.agent_mood\n  ~ enum  values: (calm, busy) → (calm, busy, asleep)\n')
      expect(text).toContain('function public.touch_updated_at()\n  ~ function\n      definition:\n')
      expect(text).toMatch(
        /Not in sync: 9 differences \(2 added, 3 dropped, 4 changed\); the database is at version 6\./,
      )

      const json = await runCliHere(['diff', '--url', live.url!, '--dir', folder, '--json'])
      expect(json.code).toBe(3)
      const doc = JSON.parse(json.stdout) as {
        ok: boolean
        command: string
        inSync: boolean
        differences: SchemaDifference[]
      }
      expect(doc).toMatchObject({ ok: true, command: 'diff', inSync: false })
      expect(doc.differences).toEqual(JSON.parse(JSON.stringify((await diff(live.url!, folder)).differences)))
    })

    it('exits 0 in sync and 1 when it cannot compare, and drops the shadow even when building it fails', async () => {
      const fresh = await createTestDatabase({ migrationFolder: folder })
      try {
        const ok = await runCliHere(['diff', '--url', fresh.url!, '--dir', folder])
        expect(ok.code).toBe(0)
        expect(ok.stdout).toContain(
          'In sync: the database has exactly what its applied files build (the database is at version 6).',
        )
        // The folder's 006 now fails on the shadow (the live database applied another text).
        const broken = await wukongPlus({ '006_extras.sql': `${EXTRAS}SELECT 1 / 0;\n` })
        const failed = await runCliHere(['diff', '--url', fresh.url!, '--dir', broken, '--json'])
        expect(failed.code).toBe(1)
        expect(JSON.parse(failed.stdout).error.code).toBe('MIGRATION_FAILED')
        expect(await shadowsLeft()).toEqual([])
      } finally {
        await fresh.destroy()
      }
    })
  },
)

describe.skipIf(needsServer(server, 'diff on the two populations: fresh, and built by the old runner'))(
  'diff on the two populations: fresh, and built by the old runner',
  { timeout: 120_000 },
  () => {
    let old: TestDatabaseHandle
    beforeAll(async () => {
      old = await server.createDatabase()
      const files = await new SqlFileMigrationProvider().loadFiles()
      const client = new pg.Client({ connectionString: old.url })
      await client.connect()
      try {
        // Deployed databases: 001–004 executed as-is, rows in schema_versions only.
        for (const file of files.filter((f) => f.version <= 4)) await client.query(file.text)
      } finally {
        await client.end()
      }
    })
    afterAll(() => old?.destroy())

    it('reports nothing on the old runner’s database at version 4, nor after adoption and the converging 005', async () => {
      const before = await diff(old.url!, DEFAULT_MIGRATION_FOLDER)
      expect(before).toMatchObject({ inSync: true, currentVersion: 4, differences: [] })
      const runner = new MigrationRunner({ url: old.url!, log: () => {} })
      try {
        const { results } = await runner.migrate()
        expect(results.map((r) => [r.version, r.status])).toEqual([
          [1, 'adopted'],
          [2, 'adopted'],
          [3, 'adopted'],
          [4, 'adopted'],
          [5, 'applied'],
        ])
      } finally {
        await runner.close()
      }
      const after = await diff(old.url!, DEFAULT_MIGRATION_FOLDER)
      expect(after).toMatchObject({ inSync: true, currentVersion: 5, differences: [] })
      // …and the two populations are now one schema: the same catalog as a fresh database.
      const fresh = await createTestDatabase()
      const oldDb = kyselyForUrl(old.url!, 1)
      try {
        const strip = (objects: readonly { owner: string | null }[]) =>
          objects.map((o) => JSON.stringify({ ...o, owner: null })).sort()
        expect(strip((await readSchemaCatalog(oldDb)).objects)).toEqual(
          strip((await readSchemaCatalog(fresh.db)).objects),
        )
      } finally {
        await oldDb.destroy()
        await fresh.destroy()
      }
    })

    it('shows what 005 changes when compared with what its files build at version 4', async () => {
      // A database at version 5 diffed against a folder with 004 only: the HNSW indexes are
      // extra and the ivfflat ones are gone (and version 5 has no file there).
      const at5 = await createTestDatabase()
      try {
        const files = await new SqlFileMigrationProvider().loadFiles()
        const folder = await migrationFolder(
          Object.fromEntries(files.filter((f) => f.version <= 4).map((f) => [f.fileName, f.text])),
        )
        const result = await diff(at5.url!, folder)
        expect(result.missingVersions).toEqual([5])
        expect(
          result.differences
            .map((d) => `${d.change} ${d.name} ${d.expected?.['method'] ?? d.actual?.['method']}`)
            .sort(),
        ).toEqual([
          'added idx_knowledge_embedding_hnsw hnsw',
          'added idx_knowledge_org_embedding_hnsw hnsw',
          'added idx_knowledge_public_embedding_hnsw hnsw',
          'dropped idx_knowledge_embedding ivfflat',
          'dropped idx_knowledge_org_embedding ivfflat',
          'dropped idx_knowledge_public_embedding ivfflat',
        ])
      } finally {
        await at5.destroy()
      }
    })
  },
)

describe.skipIf(needsServer(server, 'diff only reads the live database'))(
  'diff only reads the live database',
  { timeout: 120_000 },
  () => {
    it('works for a role that cannot write (read-only by default, SELECT only), with an empty --shadow-url that it empties again', async () => {
      const live = await createTestDatabase()
      const shadow = await server.createDatabase()
      const role = `wk_reader_${Math.random().toString(16).slice(2, 8)}`
      const admin = kyselyForUrl(live.url!, 1)
      try {
        await sql
          .raw(`
        CREATE ROLE ${role} LOGIN PASSWORD 'reader-secret';
        ALTER ROLE ${role} SET default_transaction_read_only = on;
        GRANT CONNECT ON DATABASE ${live.name} TO ${role};
        GRANT USAGE ON SCHEMA public TO ${role};
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role};`)
          .execute(admin)
        const readerUrl = new URL(live.url!)
        readerUrl.username = role
        readerUrl.password = 'reader-secret'
        const before = await readSchemaCatalog(admin)
        const { rows: statsBefore } = await sql<{
          n: string
        }>`select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as n from pg_stat_user_tables`.execute(
          admin,
        )

        const run = await runCliHere(['diff', '--url', readerUrl.toString(), '--shadow-url', shadow.url!, '--json'])
        expect(run.stderr).toBe('')
        expect(run.code).toBe(0)
        expect(run.stdout).not.toContain('reader-secret')
        expect(JSON.parse(run.stdout)).toMatchObject({
          inSync: true,
          currentVersion: 5,
          shadow: { name: shadow.name, created: false },
        })

        // Untouched: the same catalog, no row written (statistics flushed by the server first).
        expect(await readSchemaCatalog(admin)).toEqual(before)
        await sql`select pg_stat_force_next_flush()`.execute(admin)
        const { rows: statsAfter } = await sql<{
          n: string
        }>`select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text as n from pg_stat_user_tables`.execute(
          admin,
        )
        expect(statsAfter[0]!.n).toBe(statsBefore[0]!.n)
        // The given shadow is empty again, and usable again.
        expect((await readSchemaCatalog(shadow.db)).objects.map((o) => `${o.kind} ${o.name}`)).toEqual([
          'extension plpgsql',
          'schema public',
        ])
        expect((await runCliHere(['diff', '--url', readerUrl.toString(), '--shadow-url', shadow.url!])).code).toBe(0)
      } finally {
        await admin.destroy()
        await live.destroy()
        await shadow.destroy()
        const cleanup = kyselyForUrl(server.adminUrl!, 1)
        await sql
          .raw(`DROP ROLE IF EXISTS ${role}`)
          .execute(cleanup)
          .catch(() => {})
        await cleanup.destroy()
      }
    })

    it('refuses a --shadow-url that is not empty, touching nothing in it', async () => {
      const live = await createTestDatabase()
      try {
        const run = await runCliHere(['diff', '--url', live.url!, '--shadow-url', live.url!, '--json'])
        expect(run.code).toBe(1)
        expect(JSON.parse(run.stdout).error.code).toBe('SHADOW_NOT_EMPTY')
        expect(await live.db.selectFrom('schema_versions').select('version').execute()).toHaveLength(5)
      } finally {
        await live.destroy()
      }
    })

    it('needs a server or a --shadow-url: a given Kysely instance without one is refused with its own code', async () => {
      const live = await createTestDatabase()
      const runner = new MigrationRunner({ db: live.db, log: () => {} })
      try {
        const error = await runner.diff().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(MigrationError)
        expect((error as MigrationError).code).toBe('SHADOW_FAILED')
        const viaShadow = await runner.diff({
          shadowUrl: withDatabase(
            server.adminUrl!,
            (await server.createDatabase({ name: `wk_test_given_${process.pid}` })).name,
          ),
        })
        expect(viaShadow.inSync).toBe(true)
      } finally {
        await live.destroy()
        const cleanup = kyselyForUrl(server.adminUrl!, 1)
        await sql.raw(`DROP DATABASE IF EXISTS wk_test_given_${process.pid} WITH (FORCE)`).execute(cleanup)
        await cleanup.destroy()
      }
    })
  },
)

// How long the interrupted run may take to reach its shadow, on a busy machine.
const INTERRUPT_WAIT_MS = Number(process.env['WUKONG_TEST_INTERRUPT_WAIT_MS'] ?? 60_000)

describe.skipIf(needsServer(server, 'diff interrupted'))(
  'diff interrupted',
  { timeout: INTERRUPT_WAIT_MS + 60_000 },
  () => {
    it('drops its shadow on SIGINT while the shadow is being built, and exits 130', async () => {
      // A file that takes a while on the shadow only (the live database's template is built at once),
      // so that the interrupt lands while it runs.
      const slow = "SELECT pg_sleep(CASE WHEN current_database() LIKE 'wk_shadow_%' THEN 4 ELSE 0 END);\n"
      const folder = await wukongPlus({ '006_slow.sql': slow })
      const live = await createTestDatabase({ migrationFolder: folder })
      try {
        const child = spawn(process.execPath, [BIN, 'diff', '--url', live.url!, '--dir', folder], {
          cwd: ROOT,
          env: cliEnv(),
          stdio: 'ignore',
        })
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
        const deadline = Date.now() + INTERRUPT_WAIT_MS
        while ((await shadowsLeft()).length === 0) {
          if (Date.now() > deadline) throw new Error(`no shadow database appeared within ${INTERRUPT_WAIT_MS} ms`)
          await sleep(50)
        }
        child.kill('SIGINT')
        expect(await exited).toBe(130)
        expect(await shadowsLeft()).toEqual([])
      } finally {
        await live.destroy()
      }
    })
  },
)

describe.skipIf(needsServer(server, 'scratch databases of runs that were killed'))(
  'scratch databases of runs that were killed',
  () => {
    it('the next shadow drops the shadows and round-trip scratch databases whose process is gone, and keeps the others', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid! // a pid whose process has ended
      const me = currentOwner()
      const names = {
        shadowOfDead: cloneName({ ...me, pid: dead, start: '0' }, 'wk_shadow_'),
        roundtripOfDead: cloneName({ ...me, pid: dead, start: '0' }, 'wk_roundtrip_'),
        otherHost: cloneName({ ...me, host: me.host === 'ffffff' ? 'eeeeee' : 'ffffff', pid: dead }, 'wk_shadow_'),
        mine: cloneName(me, 'wk_shadow_'),
      }
      const admin = kyselyForUrl(server.adminUrl!, 1)
      const exists = async (name: string): Promise<boolean> =>
        (await sql<{ n: number }>`select count(*)::int as n from pg_database where datname = ${name}`.execute(admin))
          .rows[0]!.n === 1
      try {
        for (const name of Object.values(names)) await sql.raw(`create database "${name}"`).execute(admin)
        const shadow = await openShadowDatabase({ serverUrl: server.adminUrl! })
        await shadow.drop()
        expect({
          shadowOfDead: await exists(names.shadowOfDead),
          roundtripOfDead: await exists(names.roundtripOfDead),
          otherHost: await exists(names.otherHost),
          mine: await exists(names.mine),
          theNewOne: await exists(shadow.name),
        }).toEqual({ shadowOfDead: false, roundtripOfDead: false, otherHost: true, mine: true, theNewOne: false })
      } finally {
        for (const name of Object.values(names))
          await sql.raw(`drop database if exists "${name}" with (force)`).execute(admin)
        await admin.destroy()
      }
    })
  },
)
