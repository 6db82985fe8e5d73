import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationRunner } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'
import { runCliHere } from './support/run-cli-in-process.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

const APP = { ledgerSchema: 'app_migrations' } as const

describe("an app's own migrations beside the package's, on one database", () => {
  it('each set keeps its own ledger; new files in either apply in any order; each status names the other', async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const db = handle.db
    const appDir = await migrationFolder({
      '001_session_tags.sql': 'create table session_tags (tag text primary key);\n',
    })
    const wukong = () => new MigrationRunner({ db })
    const app = () => new MigrationRunner({ db, migrationFolder: appDir, ...APP })

    // The app's set first: its 001 is its own, not the package's 001.
    expect((await app().migrate()).results.map((r) => [r.fileName, r.status])).toEqual([
      ['001_session_tags.sql', 'applied'],
    ])
    expect((await wukong().migrate()).results.map((r) => r.fileName)).toContain('001_initial_schema.sql')
    // A file of the app's that uses the package's tables, deployed after them.
    await writeFile(join(appDir, '002_tag_sessions.sql'), 'alter table sessions add column tags text[];\n')
    expect((await wukong().migrate()).results).toEqual([])
    expect((await app().migrate()).results.map((r) => r.fileName)).toEqual(['002_tag_sessions.sql'])

    const [ours, theirs] = [await wukong().status(), await app().status()]
    expect([ours.isUpToDate, ours.ledgerSchema, ours.otherSets]).toEqual([true, 'public', ['app_migrations']])
    expect([theirs.isUpToDate, theirs.ledgerSchema, theirs.otherSets, theirs.currentVersion]).toEqual([
      true,
      'app_migrations',
      [],
      2,
    ])
    const { rows } = await sql<{
      v: number
    }>`select version as v from app_migrations.schema_versions order by 1`.execute(db)
    expect(rows).toEqual([{ v: 1 }, { v: 2 }])
  })

  it("an error in one set names that set's file and none of the other's", async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    await new MigrationRunner({ db: handle.db }).migrate()
    const appDir = await migrationFolder({ '001_bad.sql': 'create table t (id int);\nselect * from nowhere;\n' })
    const error = (await new MigrationRunner({ db: handle.db, migrationFolder: appDir, ...APP })
      .migrate()
      .catch((e: unknown) => e)) as Error & { file?: string; line?: number }
    expect(error).toMatchObject({ file: '001_bad.sql', line: 2 })
    expect(error.message).not.toMatch(/001_initial_schema|002_|005_/)
    // The package's set is untouched and still up to date.
    expect((await new MigrationRunner({ db: handle.db }).status()).isUpToDate).toBe(true)
  })

  it.skipIf(needsServer(server, 'migration sets on the command line'))(
    'the command line: --ledger-schema (or WUKONG_LEDGER_SCHEMA) picks the set, status shows the other',
    async () => {
      const handle = await server.createDatabase()
      handles.push(handle)
      const url = handle.url!
      const appDir = await migrationFolder({ '001_notes.sql': 'create table notes (id int);\n' })
      expect((await runCliHere(['migrate', '--url', url])).code).toBe(0)
      const migrated = await runCliHere(['migrate', '--dir', appDir, '--url', url], {
        WUKONG_LEDGER_SCHEMA: 'app_migrations',
      })
      expect(migrated.code).toBe(0)
      const theirs = await runCliHere([
        'status',
        '--check',
        '--dir',
        appDir,
        '--ledger-schema',
        'app_migrations',
        '--url',
        url,
      ])
      expect(theirs.code).toBe(0)
      expect(theirs.stdout).toContain('app_migrations.schema_versions')
      const ours = await runCliHere(['status', '--check', '--url', url, '--json'])
      expect(ours.code).toBe(0)
      expect(JSON.parse(ours.stdout)).toMatchObject({ ledgerSchema: 'public', otherSets: ['app_migrations'] })
    },
  )
})
