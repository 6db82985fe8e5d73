import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it, onTestFinished } from 'vitest'

import { cli, folderWith, jsonOf } from './support/cli-process.js'

// No URL variable at all: the CLI uses the embedded PGlite database and says so in one line
// on stderr. PGlite takes seconds to boot, so this suite keeps to three runs on one database.
describe('wukong-migrate on the embedded database', { timeout: 300_000 }, () => {
  it('migrate (default folder .wukong/pglite), status --check --json, then a failed migration with its caret', async () => {
    const cwd = await realpath(await mkdtemp(join(tmpdir(), 'wk-cli-embedded-')))
    const dataDir = join(cwd, '.wukong', 'pglite')
    const dir = await folderWith({
      '001_items.sql': 'create extension if not exists vector;\ncreate table items (id int primary key, embedding vector(3));\n',
      '002_seed.sql': "insert into items values (1, '[1,2,3]');\n",
    })
    onTestFinished(() => rm(cwd, { recursive: true, force: true }))
    const announce = `Using the embedded PGlite database in ${dataDir} (none of POSTGRES_URL_NON_POOLING, POSTGRES_URL, POSTGRES_PRISMA_URL, DATABASE_URL is set)\n`

    const migrate = await cli(['migrate', '--dir', dir], { cwd })
    expect(migrate.code).toBe(0)
    expect(migrate.stderr).toBe(announce)
    expect(migrate.stdout).toContain(`Migrating embedded PGlite in ${dataDir} with ${dir}`)
    expect(migrate.stdout).toMatch(/^ {2}applied {3}001_items\.sql +[\d.]+ m?s$/m)
    expect(migrate.stdout).toMatch(/^ {2}applied {3}002_seed\.sql +[\d.]+ m?s$/m)
    expect(migrate.stdout).toMatch(/Done: 2 applied in .*; the database is at version 2\.\n$/)

    // The same database through WUKONG_PGLITE_DIR, from elsewhere.
    const status = await cli(['status', '--check', '--json', '--dir', dir], { env: { WUKONG_PGLITE_DIR: dataDir } })
    expect(status.code).toBe(0)
    expect(status.stderr).toBe(announce)
    expect(jsonOf(status)).toMatchObject({
      version: 1,
      command: 'status',
      ok: true,
      database: { source: 'embedded', url: null, dataDir },
      currentVersion: 2,
      isUpToDate: true,
      pending: [],
    })

    await writeFile(join(dir, '003_broken.sql'), "-- a typo on line 3, column 8\nupdate items set id = 2;\nselect idd from items;\n")
    const failed = await cli(['migrate', '--dir', dir], { cwd })
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^ {2}FAILED {4}003_broken\.sql$/m)
    expect(failed.stdout).toMatch(/Migration failed: 1 failed in .*; the database is at version 2\.\n$/)
    const lines = failed.stderr.split('\n')
    expect(lines[0]).toBe(announce.trimEnd())
    expect(lines[1]).toBe('error[MIGRATION_FAILED]: column "idd" does not exist')
    expect(lines[2]).toBe(` --> ${dir}/003_broken.sql:3:8`)
    expect(lines[4]).toBe('3 | select idd from items;')
    expect(lines[5]).toBe('  |        ^')
    expect(failed.stderr).toContain('= sqlstate: 42703')
  })
})
