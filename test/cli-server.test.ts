import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { resolveTestServer, type TestDatabaseHandle, type TestServer } from '../src/testing/test-server.js'
import { cli, cliOnTerminal, folderWith, jsonOf, plain, ROOT } from './support/cli-process.js'
import { needsServer } from './support/needs-server.js'
import { runCliHere } from './support/run-cli-in-process.js'

// The CLI as a subprocess against the real server: every database command, the JSON shapes,
// exit codes 0/1/3, error rendering, colour. Each test migrates a fresh database of its own.
const server: TestServer = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
async function freshDatabase(): Promise<TestDatabaseHandle> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle
}
afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()))
})

const ENVELOPE = ['version', 'command', 'ok', 'exitCode', 'database', 'folder']
const RUN_KEYS = [...ENVELOPE, 'results', 'summary', 'currentVersion', 'durationMs', 'error']
const STATUS_KEYS = [
  ...ENVELOPE,
  'currentVersion',
  'isUpToDate',
  'applied',
  'pending',
  'drifted',
  'missing',
  'renamed',
  'outOfOrder',
  'ledgerSchema',
  'otherSets',
  'adopted',
  'error',
]
const ERROR_KEYS = [
  'code',
  'message',
  'file',
  'line',
  'column',
  'sourceLine',
  'sqlState',
  'detail',
  'hint',
  'where',
  'advice',
]

const GOOD = {
  '001_people.sql':
    "create table people (id int primary key, name text not null);\ninsert into people values (1, 'ann');\n",
  '001_people.down.sql': 'drop table people;\n',
  '002_tags.sql': 'create table tags (\n  id int primary key,\n  label text\n);\n',
  '002_tags.down.sql': 'drop table tags;\n',
  '003_people_name.sql':
    '-- wukong:no-transaction\ncreate index concurrently if not exists people_name on people (name);\n',
}

// Each CLI run is a fresh Node process that loads the SQL parser (WASM): seconds on a busy machine.
describe.skipIf(needsServer(server, 'wukong-migrate against a PostgreSQL server'))(
  'wukong-migrate against a PostgreSQL server',
  { timeout: 240_000 },
  () => {
    let db: TestDatabaseHandle
    let dir: string
    let url: string
    beforeAll(async () => {
      db = await freshDatabase()
      url = db.url!
      dir = await folderWith(GOOD)
    })

    it('status, plan, migrate, status --check, down: the whole round', async () => {
      // Before: everything pending; --check says so with exit 3.
      const before = await cli(['status', '--check', '--dir', dir], { env: { POSTGRES_URL: url } })
      expect(before.code).toBe(3)
      expect(before.stdout).toContain('(from POSTGRES_URL)')
      expect(before.stdout).toMatch(/pending +001_people\.sql +2 statements/)
      expect(before.stdout).toMatch(/Not up to date: no migration is applied; 3 pending\./)
      expect(before.stdout).toContain('wukong-migrate migrate applies them')

      // plan: every statement with its line, and nothing touched.
      const plan = await cli(['plan', '--dir', dir, '--url', url])
      expect(plan.code).toBe(0)
      expect(plan.stdout).toContain('migrate would apply 3 files, from nothing applied to version 3:')
      expect(plan.stdout).toMatch(
        /002_tags\.sql {2}1 statement, one transaction\n {2}1 \| create table tags \(\n {2}2 \| {3}id int primary key,/,
      )
      expect(plan.stdout).toMatch(/003_people_name\.sql {2}1 statement, not atomic/)
      const planDoc = jsonOf(await cli(['plan', '--json', '--dir', dir, '--url', url]))
      expect(Object.keys(planDoc)).toEqual([
        ...ENVELOPE,
        'currentVersion',
        'pending',
        'bookkeeping',
        'drifted',
        'missing',
        'warnings',
        'error',
      ])
      expect(planDoc['warnings']).toEqual([])
      expect((planDoc['pending'] as unknown[])[0]).toEqual({
        version: 1,
        name: '001_people',
        fileName: '001_people.sql',
        atomic: true,
        statements: [
          {
            line: 1,
            column: 1,
            kind: 'CreateStmt',
            text: 'create table people (id int primary key, name text not null)',
          },
          { line: 2, column: 1, kind: 'InsertStmt', text: "insert into people values (1, 'ann')" },
        ],
      })
      const { rows } = await sql<{ t: string | null }>`select to_regclass('schema_versions')::text as t`.execute(db.db)
      expect(rows[0]!.t).toBeNull()

      // migrate: one line per file with its duration, then the summary.
      const migrate = await cli(['migrate', '--dir', dir], { env: { POSTGRES_URL_NON_POOLING: url } })
      expect(migrate.code).toBe(0)
      expect(migrate.stdout).toMatch(/^ {2}applied {3}001_people\.sql +\d+ ms$/m)
      expect(migrate.stdout).toMatch(/^ {2}applied {3}002_tags\.sql +\d+ ms$/m)
      expect(migrate.stdout).toMatch(/^ {2}applied {3}003_people_name\.sql +\d+ ms {2}\(not atomic\)$/m)
      expect(migrate.stdout).toMatch(/Done: 3 applied in [\d.]+ m?s; the database is at version 3\.\n$/)
      expect(migrate.stderr).toBe('')

      // Again: nothing to do, and `up` is the same command.
      const again = jsonOf(await cli(['up', '--json', '--dir', dir, '--url', url]))
      expect(Object.keys(again)).toEqual(RUN_KEYS)
      expect(again).toMatchObject({
        version: 1,
        command: 'migrate',
        ok: true,
        exitCode: 0,
        results: [],
        currentVersion: 3,
        error: null,
      })
      expect(again['database']).toEqual({ source: '--url', url, dataDir: null })

      const status = await cli(['status', '--check', '--json', '--dir', dir], { env: { POSTGRES_PRISMA_URL: url } })
      expect(status.code).toBe(0)
      const doc = jsonOf(status)
      expect(Object.keys(doc)).toEqual(STATUS_KEYS)
      expect(doc).toMatchObject({
        command: 'status',
        ok: true,
        currentVersion: 3,
        isUpToDate: true,
        pending: [],
        drifted: [],
        missing: [],
        adopted: [],
      })
      expect(doc['database']).toMatchObject({ source: 'POSTGRES_PRISMA_URL' })
      const applied = doc['applied'] as Record<string, unknown>[]
      expect(applied.map((a) => a['fileName'])).toEqual(['001_people.sql', '002_tags.sql', '003_people_name.sql'])
      expect(Object.keys(applied[0]!).sort()).toEqual([
        'adopted',
        'appliedAt',
        'atomic',
        'checksumMatches',
        'description',
        'executionMs',
        'fileName',
        'name',
        'recordedByKysely',
        'version',
      ])
      expect(applied[2]).toMatchObject({ atomic: false, checksumMatches: true, recordedByKysely: true })
      expect(new Date(applied[0]!['appliedAt'] as string).getTime()).toBeGreaterThan(Date.now() - 600_000)

      // down: needs a .down.sql; refuses to go up; reverts; then nothing left to revert.
      const noDown = await cli(['down', '--dir', dir, '--url', url])
      expect(noDown.code).toBe(1)
      expect(noDown.stderr).toMatch(/error\[NO_DOWN_FILE\]: cannot revert 003_people_name\.sql: no \.down\.sql file/)
      const up = await cli(['down', '--to', '7', '--dir', dir, '--url', url])
      expect(up.code).toBe(1)
      expect(up.stderr).toMatch(/error\[TARGET_ABOVE_CURRENT\]: down --to 7: the database is at version 3/)
      await rm(join(dir, '003_people_name.sql'))
      const missing = await cli(['status', '--check', '--dir', dir, '--url', url])
      expect(missing.code).toBe(3)
      expect(missing.stdout).toMatch(
        /MISSING +003_people_name\.sql +applied \("people name"\) but no such file in the folder/,
      )
      expect(missing.stdout).toContain('point --dir at the folder this database was migrated from')
      await writeFile(join(dir, '003_people_name.sql'), GOOD['003_people_name.sql'])
      await writeFile(join(dir, '003_people_name.down.sql'), 'drop index people_name;\n')
      const down = await cli(['down', '--dir', dir, '--url', url])
      expect(down.code).toBe(0)
      expect(down.stdout).toMatch(/^ {2}reverted {2}003_people_name\.down\.sql +\d+ ms$/m)
      expect(down.stdout).toMatch(/Done: 1 reverted in .*; the database is at version 2\./)
      const all = jsonOf(await cli(['down', '--to', '0', '--json', '--dir', dir, '--url', url]))
      expect(Object.keys(all)).toEqual(RUN_KEYS)
      expect(all).toMatchObject({
        command: 'down',
        ok: true,
        currentVersion: null,
        summary: { reverted: 2, applied: 0, failed: 0, 'not-run': 0 },
      })
      expect((all['results'] as { fileName: string; status: string }[]).map((r) => [r.fileName, r.status])).toEqual([
        ['002_tags.down.sql', 'reverted'],
        ['001_people.down.sql', 'reverted'],
      ])
      const nothing = await cli(['down', '--dir', dir, '--url', url])
      expect(nothing.code).toBe(0)
      expect(nothing.stdout).toContain('Nothing to revert; no migration is applied.')
    })

    it("plan warns, as verify does, of what the pending files would block in a live app (the linter's findings)", async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_people.sql': 'create table people (id int primary key, name text);\n',
        '002_people_name.sql': 'create index people_name on people (name);\n',
      })
      expect((await runCliHere(['migrate', '--dir', folder, '--url', handle.url!])).code).toBe(0)
      await writeFile(join(folder, '003_drop_name.sql'), 'select 1;\nalter table people drop column name;\n')

      const plan = await runCliHere(['plan', '--dir', folder, '--url', handle.url!])
      expect(plan.code).toBe(0)
      expect(plan.stdout).toContain('migrate would apply 1 file, from version 2 to version 3:')
      expect(plan.stderr).toMatch(/^warning\[drop-column\]: 003_drop_name\.sql:2: drops a column .*; safe: /m)
      // Only what migrate would run: the applied file's unconcurrent index is verify's to report.
      expect(plan.stderr).not.toContain('index-not-concurrent')
      expect((await runCliHere(['verify', '--dir', folder])).stderr).toMatch(
        /^warning\[index-not-concurrent\]: 002_people_name\.sql:1: /m,
      )

      const doc = jsonOf(await runCliHere(['plan', '--json', '--dir', folder, '--url', handle.url!]))
      expect(doc['warnings']).toEqual([
        { code: 'drop-column', message: expect.stringMatching(/; safe: /), file: '003_drop_name.sql', line: 2 },
      ])
    })

    it('drift: status --check exits 3 and names it, migrate refuses (exit 1), --allow-drift migrates', async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_a.sql': 'create table a (id int);\n',
        '002_b.sql': 'create table b (id int);\n',
      })
      expect((await cli(['migrate', '--dir', folder, '--url', handle.url!])).code).toBe(0)
      await writeFile(join(folder, '001_a.sql'), 'create table a (id bigint);\n')
      await writeFile(join(folder, '003_c.sql'), 'create table c (id int);\n')

      const status = await cli(['status', '--check', '--dir', folder, '--url', handle.url!])
      expect(status.code).toBe(3)
      expect(status.stdout).toMatch(/DRIFTED +001_a\.sql +applied .*; the file was edited since \(checksum differs\)/)
      expect(status.stdout).toMatch(/Not up to date: the database is at version 2; 1 pending, 1 drifted\./)
      expect(status.stdout).toContain(`git log -p -- ${join(folder, '001_a.sql')})`)
      const doc = jsonOf(await cli(['status', '--check', '--json', '--dir', folder, '--url', handle.url!]))
      expect(doc).toMatchObject({
        ok: true,
        exitCode: 3,
        isUpToDate: false,
        drifted: [{ version: 1, fileName: '001_a.sql' }],
        pending: [{ version: 3 }],
      })

      const plan = await cli(['plan', '--dir', folder, '--url', handle.url!])
      expect(plan.code).toBe(1)
      expect(plan.stderr).toMatch(/error\[CHECKSUM_MISMATCH\]/)

      const refused = await cli(['migrate', '--json', '--dir', folder, '--url', handle.url!])
      expect(refused.code).toBe(1)
      expect(jsonOf(refused)).toMatchObject({
        ok: false,
        exitCode: 1,
        results: [],
        error: { code: 'CHECKSUM_MISMATCH', file: '001_a.sql' },
      })
      const forced = await cli(['migrate', '--allow-drift', '--dir', folder, '--url', handle.url!])
      expect(forced.code).toBe(0)
      expect(forced.stdout).toMatch(/applied +003_c\.sql/)
    })

    it("a failed migration: the file, line:column, the SQL line with a caret under the column, PostgreSQL's code and hint; exit 1", async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_people.sql': GOOD['001_people.sql'],
        // Line 3, column 15: the misspelt column.
        '002_ages.sql': '-- ages\nalter table people add column age int;\n   select id, nme from people;\n',
        '003_never.sql': 'create table never (id int);\n',
      })
      const run = await cli(['migrate', '--dir', folder, '--url', handle.url!], { cwd: folder })
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/^ {2}applied {3}001_people\.sql +\d+ ms$/m)
      expect(run.stdout).toMatch(/^ {2}FAILED {4}002_ages\.sql$/m)
      expect(run.stdout).toMatch(/^ {2}not run {3}003_never\.sql$/m)
      expect(run.stdout).toMatch(
        /Migration failed: 1 applied, 1 failed, 1 not run in .*; the database is at version 1\.\n$/,
      )
      const lines = run.stderr.split('\n')
      expect(lines[0]).toBe('error[MIGRATION_FAILED]: column "nme" does not exist')
      expect(lines[1]).toBe(' --> 002_ages.sql:3:15')
      expect(lines[3]).toBe('3 |    select id, nme from people;')
      expect(lines[4]).toBe('  |               ^')
      expect(lines[4]!.indexOf('^')).toBe(lines[3]!.indexOf('nme'))
      expect(run.stderr).toContain('= sqlstate: 42703')
      expect(run.stderr).toContain('= hint: Perhaps you meant to reference the column "people.name".')
      expect(run.stderr).toContain('= help: nothing of 002_ages.sql was applied')

      const doc = jsonOf(await cli(['migrate', '--json', '--dir', folder, '--url', handle.url!]))
      expect(Object.keys(doc)).toEqual(RUN_KEYS)
      expect(Object.keys(doc['error'] as object)).toEqual(ERROR_KEYS)
      expect(doc).toMatchObject({
        ok: false,
        exitCode: 1,
        currentVersion: 1,
        summary: { applied: 0, failed: 1, 'not-run': 1 },
        error: {
          code: 'MIGRATION_FAILED',
          file: '002_ages.sql',
          line: 3,
          column: 15,
          sourceLine: '   select id, nme from people;',
          sqlState: '42703',
          hint: 'Perhaps you meant to reference the column "people.name".',
        },
      })
      expect((doc['results'] as { status: string }[]).map((r) => r.status)).toEqual(['failed', 'not-run'])
      const { rows } = await sql<{
        n: number
      }>`select count(*)::int as n from information_schema.columns where table_name = 'people' and column_name = 'age'`.execute(
        handle.db,
      )
      expect(rows[0]!.n).toBe(0)
    })

    it("a failure without a position (a unique violation) shows the statement, and PostgreSQL's detail", async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_people.sql': GOOD['001_people.sql'],
        '002_more.sql': "insert into people values (2, 'bob');\n  insert into people values (1, 'dup');\n",
      })
      const run = await cli(['migrate', '--dir', folder, '--url', handle.url!])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(
        /^error\[MIGRATION_FAILED\]: duplicate key value violates unique constraint "people_pkey"$/m,
      )
      expect(run.stderr).toMatch(/--> .*002_more\.sql:2:3$/m)
      expect(run.stderr).toContain("2 |   insert into people values (1, 'dup');\n  |   ^")
      expect(run.stderr).toContain('= sqlstate: 23505')
      expect(run.stderr).toContain('= detail: Key (id)=(1) already exists.')
    })

    it('adoption and healing: status and plan show the bookkeeping, migrate reports adopted/healed per file', async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_people.sql': GOOD['001_people.sql'],
        '002_tags.sql': GOOD['002_tags.sql'],
        '003_c.sql': 'create table c (id int);\n',
      })
      // What the old runner left: the schema, and a ledger without checksums or Kysely's tables.
      await sql
        .raw(`${GOOD['001_people.sql']}
      create table schema_versions (version integer primary key, description text not null, applied_at timestamptz default now());
      insert into schema_versions (version, description) values (1, 'people');`)
        .execute(handle.db)
      const status = await cli(['status', '--check', '--dir', folder, '--url', handle.url!])
      expect(status.code).toBe(3)
      expect(status.stdout).toMatch(
        /applied +001_people\.sql +.*, by the old runner \(migrate adopts it: no SQL runs\)/,
      )
      const plan = await cli(['plan', '--dir', folder, '--url', handle.url!])
      expect(plan.stdout).toMatch(/adopt {2}001_people\.sql {2}\(applied by the old runner\)/)
      const migrate = await cli(['migrate', '--dir', folder, '--url', handle.url!])
      expect(migrate.code).toBe(0)
      expect(migrate.stdout).toMatch(/^ {2}adopted {3}001_people\.sql +\d+ ms$/m)
      expect(migrate.stdout).toMatch(/Done: 2 applied, 1 adopted in .*; the database is at version 3\./)
      expect((await cli(['status', '--dir', folder, '--url', handle.url!])).stdout).toMatch(
        /adopted +001_people\.sql +.*\(adopted from the old runner\)/,
      )

      // A crash between the two ledgers: ours has 003, Kysely's does not. Healed, not re-run.
      await sql`delete from kysely_migration where name = '003_c'`.execute(handle.db)
      const unhealed = jsonOf(await cli(['status', '--check', '--json', '--dir', folder, '--url', handle.url!]))
      expect(unhealed).toMatchObject({ exitCode: 3, isUpToDate: false, pending: [], drifted: [], missing: [] })
      const heal = await cli(['migrate', '--json', '--dir', folder, '--url', handle.url!])
      expect(jsonOf(heal)).toMatchObject({
        ok: true,
        summary: { healed: 1, applied: 0 },
        results: [{ fileName: '003_c.sql', status: 'healed' }],
      })
      expect((await cli(['status', '--check', '--dir', folder, '--url', handle.url!])).code).toBe(0)
    })

    it('colour on a terminal, none when piped, none with NO_COLOR, forced by FORCE_COLOR', async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({
        '001_a.sql': 'create table a (id int);\n',
        '002_b.sql': 'select * from nope;\n',
      })
      const esc = '\u001b['
      const tty = await cliOnTerminal(['migrate', '--dir', folder, '--url', handle.url!])
      expect(tty.code).toBe(1)
      expect(tty.output).toContain(`${esc}32mapplied`)
      expect(tty.output).toContain(`${esc}31m${esc}1merror[MIGRATION_FAILED]`)
      expect(plain(tty.output)).toContain('1 | select * from nope;\n  |               ^')

      const piped = await cli(['status', '--dir', folder, '--url', handle.url!])
      const pipedFail = await cli(['migrate', '--dir', folder, '--url', handle.url!])
      for (const run of [piped, pipedFail]) expect(run.stdout + run.stderr).not.toContain(esc)
      expect(pipedFail.stderr).toContain('error[MIGRATION_FAILED]')

      const noColor = await cliOnTerminal(['status', '--dir', folder, '--url', handle.url!], {
        NO_COLOR: '1',
        FORCE_COLOR: '1',
      })
      expect(noColor.output).toContain('applied  001_a.sql')
      expect(noColor.output).not.toContain(esc)

      const forced = await cli(['status', '--dir', folder, '--url', handle.url!], { env: { FORCE_COLOR: '1' } })
      expect(forced.stdout).toContain(`${esc}32mapplied`)
      // --json is never coloured: it is for programs.
      const json = await cli(['status', '--json', '--dir', folder, '--url', handle.url!], { env: { FORCE_COLOR: '1' } })
      expect(json.stdout).not.toContain(esc)
    })

    it('runs as the package scripts run it: tsx src/cli/migrate.ts', async () => {
      const handle = await freshDatabase()
      const folder = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
      const run = await cli(['src/cli/migrate.ts', 'migrate', '--dir', folder], {
        command: [join(ROOT, 'node_modules/.bin/tsx')],
        env: { POSTGRES_URL: handle.url! },
      })
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/applied {3}001_a\.sql/)
      const status = await cli(['--import', 'tsx', 'src/cli/migrate.ts', 'status', '--dir', folder], {
        command: [process.execPath],
        env: { POSTGRES_URL: handle.url! },
      })
      expect(status.code).toBe(0)
      expect(status.stdout).toContain('Up to date: the database is at version 1 (1 file applied).')
      expect(await readFile(join(folder, '001_a.sql'), 'utf8')).toBe('create table a (id int);\n')
    })
  },
)
