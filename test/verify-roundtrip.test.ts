import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'

import { MigrationRunner } from '../src/index.js'
import { kyselyForUrl, resolveTestServer } from '../src/testing/index.js'
import { migrationFolder } from './support/folders.js'
import { runCliHere } from './support/run-cli-in-process.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()

const FILES = {
  '001_a.sql': 'create table a (id int primary key, note text);\n',
  '001_a.down.sql': 'drop table a;\n',
  // Its down file forgets the index on a table an earlier file made.
  '002_b.sql': 'create index a_note on a (note);\ncreate table b (id int);\n',
  '002_b.down.sql': 'drop table b;\n',
  '003_c.sql': 'create table c (id int);\n',
  '004_d.sql': "create type mood as enum ('calm');\ncreate table d (id serial primary key, m mood default 'calm');\n",
  '004_d.down.sql': 'drop table d;\ndrop type mood;\n',
}

async function scratchDatabasesLeft(): Promise<string[]> {
  const admin = kyselyForUrl(server.adminUrl!, 1)
  try {
    const { rows } = await sql<{
      datname: string
    }>`select datname from pg_database where datname like 'wk\\_roundtrip\\_%'`.execute(admin)
    return rows.map((r) => r.datname)
  } finally {
    await admin.destroy()
  }
}

describe.skipIf(needsServer(server, 'verify --roundtrip proves the down files on a scratch database'))(
  'verify --roundtrip proves the down files on a scratch database',
  { timeout: 120_000 },
  () => {
    it('catches a down file that forgets an index, with the difference; lists a file without one; proves the rest', async () => {
      const folder = await migrationFolder(FILES)
      const runner = new MigrationRunner({ url: server.adminUrl!, migrationFolder: folder, log: () => {} })
      try {
        const report = await runner.verifyRoundTrip()
        expect(report.ok).toBe(false)
        expect(report.files.map((f) => [f.fileName, f.outcome])).toEqual([
          ['004_d.sql', 'proven'],
          ['003_c.sql', 'no-down'],
          ['002_b.sql', 'down-differs'],
          ['001_a.sql', 'proven'],
        ])
        const b = report.files[2]!
        expect(b.downDifferences.map((d) => [d.change, d.kind, d.table, d.name, d.actual?.['definition']])).toEqual([
          ['added', 'index', 'public.a', 'a_note', 'CREATE INDEX a_note ON public.a USING btree (note)'],
        ])
      } finally {
        await runner.close()
      }
      expect(await scratchDatabasesLeft()).toEqual([])
    })

    it('the CLI shows the difference and exits 1; without the faulty file it passes, unless --require-down', async () => {
      const run = await runCliHere([
        'verify',
        '--roundtrip',
        '--url',
        server.adminUrl!,
        '--dir',
        await migrationFolder(FILES),
      ])
      expect(run.code, run.stdout + run.stderr).toBe(1)
      expect(run.stdout).toContain(
        '  FAILED   002_b.sql  its down file does not restore the schema it found:\n      table public.a\n        + index a_note  CREATE INDEX a_note ON public.a USING btree (note)\n',
      )
      expect(run.stdout).toContain('  no down  003_c.sql  no down file: not checked\n')
      expect(run.stdout).toContain('Round trip failed: 2 files proven, 1 without a down file, 1 failed.')

      const fixed = await migrationFolder({ ...FILES, '002_b.down.sql': 'drop table b;\ndrop index a_note;\n' })
      const passed = await runCliHere(['verify', '--roundtrip', '--url', server.adminUrl!, '--dir', fixed, '--json'])
      expect(passed.code).toBe(0)
      const doc = JSON.parse(passed.stdout) as {
        roundtrip: { ok: boolean; files: { fileName: string; outcome: string }[] }
      }
      expect(doc.roundtrip.ok).toBe(true)
      expect(doc.roundtrip.files.map((f) => f.outcome)).toEqual(['proven', 'no-down', 'proven', 'proven'])

      const strict = await runCliHere([
        'verify',
        '--roundtrip',
        '--require-down',
        '--url',
        server.adminUrl!,
        '--dir',
        fixed,
      ])
      expect(strict.code).toBe(1)
      expect(strict.stdout).toContain('  NO DOWN  003_c.sql')
      expect(await scratchDatabasesLeft()).toEqual([])
    })

    it('catches an up file that builds something else the second time (its down file left data behind)', async () => {
      const folder = await migrationFolder({
        '001_flags.sql': 'create table flags (n int);\n',
        '001_flags.down.sql': 'drop table flags;\n',
        '002_pick.sql':
          'do $$ begin if exists (select 1 from flags) then create table x (id int); else create table y (id int); end if; end $$;\n' +
          'insert into flags values (1);\n',
        '002_pick.down.sql': 'drop table if exists x, y;\n',
      })
      const runner = new MigrationRunner({ url: server.adminUrl!, migrationFolder: folder, log: () => {} })
      try {
        const report = await runner.verifyRoundTrip()
        expect(report.files.map((f) => [f.fileName, f.outcome])).toEqual([
          ['002_pick.sql', 'up-differs'],
          ['001_flags.sql', 'proven'],
        ])
        expect(report.files[0]!.downDifferences).toEqual([])
        expect(report.files[0]!.upDifferences.map((d) => `${d.change} ${d.kind} ${d.name}`).sort()).toEqual([
          'added table x',
          'dropped table y',
        ])
      } finally {
        await runner.close()
      }
      expect(await scratchDatabasesLeft()).toEqual([])
    })

    it('on the Wukong schema: every file applies on the scratch database and is listed (no down files yet)', async () => {
      const run = await runCliHere(['verify', '--roundtrip', '--url', server.adminUrl!, '--json'])
      expect(run.code, run.stdout + run.stderr).toBe(0)
      const doc = JSON.parse(run.stdout) as {
        roundtrip: { ok: boolean; files: { fileName: string; outcome: string }[] }
      }
      expect(doc.roundtrip.files.map((f) => `${f.fileName} ${f.outcome}`)).toEqual([
        '005_hnsw_vector_indexes.sql no-down',
        '004_knowledge_base.sql no-down',
        '003_agent_fork.sql no-down',
        '002_parallel_execution.sql no-down',
        '001_initial_schema.sql no-down',
      ])
    })

    it('refuses plain verify flags that need a database, and an empty --shadow-url', async () => {
      expect((await runCliHere(['verify', '--url', server.adminUrl!])).code).toBe(2)
      expect((await runCliHere(['verify', '--roundtrip', '--shadow-url', ''])).code).toBe(2)
    })
  },
)
