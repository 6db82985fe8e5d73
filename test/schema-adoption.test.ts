import { sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  cosineDistance,
  findSchemaDifferences,
  SqlFileMigrationProvider,
  type ApplyEvent,
  type MigrationFile,
} from '../src/index.js'
import { kyselyForUrl, resolveTestServer, type TestDatabaseHandle } from '../src/testing/index.js'
import { connectClient } from '../src/testing/test-server.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()

// Every file is idempotent (IF NOT EXISTS), so running one again would change nothing visible:
// an event trigger records the text of every CREATE query the server runs after the old runner
// is done, and none may carry a statement of 001–004. (Not DROP INDEX: a trigger's INSERT
// before DROP INDEX CONCURRENTLY makes it fail, as it must be first in its transaction.)
const DDL_LOG = `
  create schema audit;
  create table audit.ddl_log (query text not null);
  create function audit.log_ddl() returns event_trigger language plpgsql as
    $$ begin insert into audit.ddl_log values (current_query()); end $$;
  create event trigger log_ddl on ddl_command_start
    when tag in ('CREATE EXTENSION', 'CREATE TABLE', 'CREATE INDEX') execute function audit.log_ddl();`

/** A unit vector of vector(1536) at `degrees` in the plane of the first two axes. */
const direction = (degrees: number): number[] => {
  const r = (degrees * Math.PI) / 180
  return [Math.cos(r), Math.sin(r), ...Array<number>(1534).fill(0)]
}

describe.skipIf(needsServer(server, 'a database the old runner built (each file executed as-is, in order)'))(
  'a database the old runner built (each file executed as-is, in order)',
  () => {
    let handle: TestDatabaseHandle
    let files: readonly MigrationFile[]
    // What deployed databases have: 001–004, run by the old runner.
    let oldFiles: readonly MigrationFile[]
    let before: { version: number; description: string; applied_at: Date }[]

    beforeAll(async () => {
      handle = await server.createDatabase()
      files = await new SqlFileMigrationProvider().loadFiles()
      oldFiles = files.filter((f) => f.version <= 4)
      expect(oldFiles.map((f) => f.fileName)).toEqual([
        '001_initial_schema.sql',
        '002_parallel_execution.sql',
        '003_agent_fork.sql',
        '004_knowledge_base.sql',
      ])

      // The old runner: no provider, no Kysely; each file's text as one simple query (as psql -f
      // would), relying on the file's own closing INSERT INTO schema_versions.
      const client = await connectClient(handle.url!)
      try {
        for (const file of oldFiles) await client.query(file.text)
        // Agent data written meanwhile, the deployed way (raw SQL, vector as text).
        await client.query(
          `insert into sessions (id, goal, user_id) values ('deployed', 'written before adoption', 'u1')`,
        )
        await client.query(
          `insert into knowledge_entities (entity_id, source_session_id, content, level, is_indexed, embedding)
                          values ('k-old', 'deployed', 'old knowledge', 'public', true, $1)`,
          [`[${direction(20).join(',')}]`],
        )
        await client.query(DDL_LOG)
        before = (await client.query('select * from schema_versions order by version')).rows
      } finally {
        await client.end()
      }
    })
    afterAll(() => handle?.destroy())

    it('has rows 1–4 in schema_versions (three columns, no checksums) and no Kysely tables', async () => {
      expect(before.map((r) => [r.version, r.description])).toEqual([
        [1, 'Initial schema: sessions, steps, todos, checkpoints'],
        [2, 'Parallel tool calls'],
        [3, 'Agent fork tasks'],
        [4, 'Knowledge base with vector search'],
      ])
      expect(Object.keys(before[0]!).sort()).toEqual(['applied_at', 'description', 'version'])
      const { rows } = await sql<{
        n: number
      }>`select count(*)::int as n from pg_class where relname like 'kysely%'`.execute(handle.db)
      expect(rows[0]!.n).toBe(0)
    })

    it("is adopted by Kysely's Migrator with our provider: nothing re-run, 005 applied, ledger completed, typed API works", async () => {
      const events: ApplyEvent[] = []
      const db = kyselyForUrl(handle.url!)
      try {
        // disableTransactions: 005 builds its indexes CONCURRENTLY (-- wukong:no-transaction).
        const migrator = new Migrator({
          db,
          provider: new SqlFileMigrationProvider({ onApply: (e) => events.push(e) }),
          disableTransactions: true,
        })
        const { error, results } = await migrator.migrateToLatest()
        expect(error).toBeUndefined()
        expect(results?.map((r) => [r.migrationName, r.status])).toEqual(files.map((f) => [f.name, 'Success']))
        expect(events.map((e) => [e.version, e.kind])).toEqual([
          [1, 'adopted'],
          [2, 'adopted'],
          [3, 'adopted'],
          [4, 'adopted'],
          [5, 'applied'],
        ])

        // Nothing re-ran: no DDL query carried a statement of 001–004 (005's did run), and the
        // data written before adoption is intact.
        const { rows: ddl } = await sql<{ query: string }>`select query from audit.ddl_log`.execute(db)
        const oldStatements = oldFiles
          .flatMap((f) => f.sql.statements.map((st) => st.text))
          .filter((text) => !text.startsWith('INSERT'))
        expect(ddl.filter((d) => oldStatements.some((text) => d.query.includes(text)))).toEqual([])
        expect(ddl.some((d) => d.query.includes('USING hnsw'))).toBe(true)
        expect(await db.selectFrom('sessions').select(['id', 'goal', 'status']).execute()).toEqual([
          { id: 'deployed', goal: 'written before adoption', status: 'active' },
        ])

        // The ledger: the old rows kept (description, applied_at), the provider's columns filled.
        const ledger = await db.selectFrom('schema_versions').selectAll().orderBy('version').execute()
        expect(ledger).toHaveLength(5)
        ledger.slice(0, 4).forEach((row, i) => {
          const file = files[i]!
          expect(row).toMatchObject({
            version: file.version,
            description: before[i]!.description,
            checksum: file.checksum,
            file_name: file.fileName,
            atomic: true,
          })
          expect(row.applied_at).toEqual(before[i]!.applied_at)
          expect(row.adopted_at).toBeInstanceOf(Date)
        })
        const { rows: kysely } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
          db,
        )
        expect(kysely.map((r) => r.name)).toEqual(files.map((f) => f.name))

        // The typed API on the adopted database: the columns are the types' (bookkeeping
        // columns included now), old vectors read as number[], new ones write, search works.
        expect(await findSchemaDifferences(db)).toEqual([])
        const old = await db
          .selectFrom('knowledge_entities')
          .select('embedding')
          .where('entity_id', '=', 'k-old')
          .executeTakeFirstOrThrow()
        expect(old.embedding![0]).toBeCloseTo(Math.cos((20 * Math.PI) / 180), 6)
        await db
          .insertInto('steps')
          .values({ session_id: 'deployed', step_number: 1, action: 'resume', status: 'running' })
          .execute()
        await db
          .insertInto('knowledge_entities')
          .values({
            entity_id: 'k-new',
            source_session_id: 'deployed',
            content: 'new knowledge',
            level: 'public',
            is_indexed: true,
            embedding: direction(5),
          })
          .execute()
        const nearest = await db
          .selectFrom('knowledge_entities')
          .select('entity_id')
          .where('level', '=', 'public')
          .where('is_indexed', '=', true)
          .where('is_to_remove', '=', false)
          .orderBy(cosineDistance('embedding', direction(0)))
          .execute()
        expect(nearest.map((r) => r.entity_id)).toEqual(['k-new', 'k-old'])

        // And a second run has nothing to do.
        expect((await migrator.migrateToLatest()).results).toEqual([])
      } finally {
        await db.destroy()
      }
    })
  },
)
