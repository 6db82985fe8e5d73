// A run parses only the files it is about to run: an applied, unchanged file is never parsed again.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { SqlFileMigrationProvider } from '../src/index.js'
import type { MigrationFileHead } from '../src/provider/migration-file.js'
import { statementTimeouts } from '../src/provider/migration-timeouts.js'
import { runMigrations } from '../src/provider/run-migrations.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { countedFiles, migrationFolder } from './support/folders.js'
import { needsServer } from './support/needs-server.js'

const server = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(() => Promise.all(handles.map((h) => h.destroy())))

describe.skipIf(needsServer(server, 'parsing on demand'))('parsing on demand', () => {
  it('each run asks to parse exactly its pending files; a revert, the file it reverts; up to date, none', async () => {
    const handle = await server.createDatabase()
    handles.push(handle)
    const dir = await migrationFolder(countedFiles(3))
    const provider = new SqlFileMigrationProvider({ migrationFolder: dir })
    const asked: string[][] = []
    const run = (direction: 'up' | 'down') =>
      runMigrations(handle.db, provider.scanFiles(), {
        target: { direction },
        timeouts: statementTimeouts(),
        parse: (heads: readonly MigrationFileHead[]) => {
          asked.push(heads.map((h) => h.fileName))
          return provider.parseFiles(heads)
        },
      })

    expect((await run('up')).error).toBeUndefined()
    await writeFile(join(dir, '004_step_4.sql'), 'create table t4 (id int primary key);\n')
    await writeFile(join(dir, '004_step_4.down.sql'), 'drop table t4;\n')
    expect((await run('up')).error).toBeUndefined()
    expect((await run('up')).steps).toEqual([])
    expect((await run('down')).error).toBeUndefined()
    expect(asked).toEqual([
      ['001_step_1.sql', '002_step_2.sql', '003_step_3.sql'],
      ['004_step_4.sql'],
      ['004_step_4.sql'],
    ])
  })
})
