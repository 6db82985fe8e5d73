import { execFileSync } from 'node:child_process'
import { constants } from 'node:fs'
import { open, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunner, readMigrationFolder, SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { snapshotDatabase } from './support/db-snapshot.js'
import { migrationFolder } from './support/folders.js'
import { scratchDir } from './support/scratch.js'

const ok = 'create table ok_table (id int);\n'

describe('reading a migration folder', () => {
  it('orders by version, names migrations after the file, reads down files', async () => {
    const folder = await migrationFolder({
      '010_third.sql': ok,
      '002_second.sql': ok,
      '001_first.sql': ok,
      '001_first.down.sql': 'drop table ok_table;',
      'README.md': '# notes are ignored',
      '.gitkeep': '',
    })
    const files = await readMigrationFolder(folder)
    expect(files.map((f) => [f.version, f.name])).toEqual([
      [1, '001_first'],
      [2, '002_second'],
      [10, '010_third'],
    ])
    expect(files[0]!.down?.fileName).toBe('001_first.down.sql')
    const migrations = await new SqlFileMigrationProvider({ migrationFolder: folder }).getMigrations()
    expect(Object.keys(migrations).sort()).toEqual(['001_first', '002_second', '010_third'])
    expect(migrations['001_first']!.down).toBeTypeOf('function')
    expect(migrations['002_second']!.down).toBeUndefined()
  })

  it('gives a BOM + CRLF file the checksum of its LF twin', async () => {
    const lf = await readMigrationFolder(await migrationFolder({ '001_a.sql': 'create table a (id int);\ncreate table b (id int);\n' }))
    const crlf = await readMigrationFolder(
      await migrationFolder({ '001_a.sql': '\uFEFFcreate table a (id int);\r\ncreate table b (id int);\r\n' }),
    )
    expect(crlf[0]!.checksum).toBe(lf[0]!.checksum)
    expect(crlf[0]!.text).toBe(lf[0]!.text)
  })

  it('accepts the no-transaction directive and marks the file non-atomic', async () => {
    const files = await readMigrationFolder(
      await migrationFolder({ '001_idx.sql': '-- wukong:no-transaction\ncreate index concurrently if not exists i on t (x);\n' }),
    )
    expect(files[0]!.sql.transactional).toBe(false)
  })
})

interface Rejection {
  readonly files: Record<string, string | Uint8Array>
  readonly code: string
  readonly file: string
  readonly at?: [number, number]
  readonly says?: RegExp
}

const rejections: Record<string, Rejection> = {
  'a name without a description': { files: { '001.sql': ok }, code: 'INVALID_FILE_NAME', file: '001.sql' },
  'a two-digit version': { files: { '01_a.sql': ok }, code: 'INVALID_FILE_NAME', file: '01_a.sql' },
  'an upper-case extension': { files: { '001_a.SQL': ok }, code: 'INVALID_FILE_NAME', file: '001_a.SQL' },
  'a wrong extension': { files: { '001_a.txt': ok }, code: 'INVALID_FILE_NAME', file: '001_a.txt' },
  'two files with one version': {
    files: { '001_a.sql': ok, '001_b.sql': ok },
    code: 'DUPLICATE_VERSION',
    file: '001_b.sql',
    says: /001_a\.sql/,
  },
  'a down file without its up file': { files: { '001_a.sql': ok, '002_b.down.sql': ok }, code: 'ORPHAN_DOWN_FILE', file: '002_b.down.sql' },
  'versions whose name order is not their number order': {
    files: { '999_a.sql': ok, '1000_b.sql': ok },
    code: 'MIXED_VERSION_WIDTH',
    file: '1000_b.sql',
  },
  'an empty file': { files: { '001_a.sql': '' }, code: 'EMPTY_MIGRATION', file: '001_a.sql' },
  'a comment-only file': { files: { '001_a.sql': '-- nothing yet\n/* still nothing */\n' }, code: 'EMPTY_MIGRATION', file: '001_a.sql' },
  'invalid UTF-8': {
    files: { '001_a.sql': Buffer.concat([Buffer.from('select 1;\nselect \''), Buffer.from([0xc3, 0x28]), Buffer.from("';\n")]) },
    code: 'INVALID_UTF8',
    file: '001_a.sql',
    at: [2, 9],
  },
  'a NUL byte': { files: { '001_a.sql': 'select 1;\nselect 2\0;\n' }, code: 'NUL_BYTE', file: '001_a.sql', at: [2, 9] },
  'a syntax error on the first line': { files: { '001_a.sql': 'creat table a (id int);\n' }, code: 'SQL_SYNTAX_ERROR', file: '001_a.sql', at: [1, 1] },
  'a syntax error on the last line': {
    files: { '001_a.sql': 'create table a (id int);\ncreate table b (id int);\nselect * fromm a;\n' },
    code: 'SQL_SYNTAX_ERROR',
    file: '001_a.sql',
    at: [3, 10],
  },
  'a syntax error after multi-byte characters': {
    files: { '001_a.sql': "comment on schema public is 'crème brûlée';\nselect * fromm a;\n" },
    code: 'SQL_SYNTAX_ERROR',
    file: '001_a.sql',
    at: [2, 10],
  },
  'BEGIN in a file': {
    files: { '001_a.sql': 'create table a (id int);\nBEGIN;\ncreate table b (id int);\nCOMMIT;\n' },
    code: 'TRANSACTION_CONTROL',
    file: '001_a.sql',
    at: [2, 1],
    says: /already runs in its own transaction/,
  },
  'SAVEPOINT in a file': { files: { '001_a.sql': 'savepoint s;\n' }, code: 'TRANSACTION_CONTROL', file: '001_a.sql', at: [1, 1] },
  'CREATE INDEX CONCURRENTLY without the directive': {
    files: { '001_a.sql': 'create table a (x int);\n  create index concurrently a_x on a (x);\n' },
    code: 'NON_TRANSACTIONAL_STATEMENT',
    file: '001_a.sql',
    at: [2, 3],
    says: /-- wukong:no-transaction/,
  },
  'an unknown directive': { files: { '001_a.sql': '-- wukong:no-transactions\nselect 1;\n' }, code: 'UNKNOWN_DIRECTIVE', file: '001_a.sql', at: [1, 1] },
  'a schema_versions INSERT for another version': {
    files: { '002_b.sql': "create table b (id int);\ninsert into schema_versions (version, description) values (3, 'b');\n" },
    code: 'WRONG_LEDGER_VERSION',
    file: '002_b.sql',
    at: [2, 1],
  },
}

describe('rejections name the file and leave the database as it was', () => {
  let handle: TestDatabaseHandle
  let before: string
  beforeAll(async () => {
    handle = await (await resolveTestServer()).createDatabase()
    before = await snapshotDatabase(handle.db)
  })
  afterAll(() => handle?.destroy())

  for (const [name, rejection] of Object.entries(rejections)) {
    it(name, async () => {
      const folder = await migrationFolder({ '000_fine.sql': 'create table fine (id int);', ...rejection.files })
      const error = await new MigrationRunner({ db: handle.db, migrationFolder: folder, log: () => {} }).migrate().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigrationError)
      const e = error as MigrationError
      expect(e.code).toBe(rejection.code)
      expect(e.file).toBe(rejection.file)
      expect(e.message).toContain(rejection.file)
      if (rejection.at) {
        expect([e.line, e.column]).toEqual(rejection.at)
        expect(e.message).toContain(`${rejection.file}:${rejection.at[0]}:${rejection.at[1]}`)
      }
      if (rejection.says) expect(e.message).toMatch(rejection.says)
      expect(await snapshotDatabase(handle.db)).toBe(before)
    })
  }

  it('a link that points outside the folder', async () => {
    const outside = await scratchDir('wk-outside-')
    await writeFile(join(outside, 'evil.sql'), ok)
    const folder = await migrationFolder({})
    await symlink(join(outside, 'evil.sql'), join(folder, '001_evil.sql'))
    const error = (await readMigrationFolder(folder).catch((e: unknown) => e)) as MigrationError
    expect(error.code).toBe('FILE_OUTSIDE_FOLDER')
    expect(error.file).toBe('001_evil.sql')
  })

  it('a folder that does not exist', async () => {
    const error = (await readMigrationFolder('/nonexistent/migrations').catch((e: unknown) => e)) as MigrationError
    expect(error.code).toBe('FOLDER_NOT_FOUND')
    expect(error.message).toContain('/nonexistent/migrations')
  })
})

describe('reading files that are large or not regular files', () => {
  it('reading a file of many statements takes time linear in its size', { timeout: 300_000 }, async () => {
    const file = (statements: number) => {
      const parts = ['create table seed (id int primary key, payload text);\n']
      for (let i = 1; i <= statements; i++) parts.push(`insert into seed values (${i}, '${'x'.repeat(100)}');\n`)
      return parts.join('')
    }
    const time = async (statements: number) => {
      const folder = await migrationFolder({ '001_seed.sql': file(statements) })
      const t0 = performance.now()
      await readMigrationFolder(folder)
      return performance.now() - t0
    }
    await time(1_000) // warm up libpg-query
    const small = await time(5_000)
    const large = await time(20_000)
    // 4× the statements: about 4× the time if linear; quadratic locating (line:column from the
    // start of the file for every statement) made it 12–16×.
    expect(large / small).toBeLessThan(7)
  })

  it('a FIFO named like a migration is refused, not waited on forever', { timeout: 30_000 }, async () => {
    const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    const fifo = join(folder, '002_b.sql')
    execFileSync('mkfifo', [fifo])
    try {
      const outcome = await Promise.race([
        readMigrationFolder(folder).then(() => 'read', (e: MigrationError) => e.code),
        new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5_000)),
      ])
      expect(outcome).toBe('UNREADABLE_FILE')
    } finally {
      // Let the blocked open() return, so no thread of the pool stays stuck.
      const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined)
      await writer?.close()
    }
  })
})
