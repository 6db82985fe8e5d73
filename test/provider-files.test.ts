import { execFile, execFileSync } from 'node:child_process'
import { constants } from 'node:fs'
import { mkdir, mkdtemp, open, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { promisify } from 'node:util'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  DEFAULT_MIGRATION_FOLDER,
  MigrationError,
  MigrationRunner,
  readMigrationFolder,
  SqlFileMigrationProvider,
} from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { snapshotDatabase } from './support/db-snapshot.js'
import { migrationFolder } from './support/folders.js'
import { scratchDir } from './support/scratch.js'

const ok = 'create table ok_table (id int);\n'
const execFileAsync = promisify(execFile)

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
    // A file without a down file still has a down(): it fails, naming the file, so Kysely reports it.
    await expect(migrations['002_second']!.down!(undefined as never)).rejects.toMatchObject({ code: 'NO_DOWN_FILE' })
  })

  it('gives a BOM + CRLF file the checksum of its LF twin', async () => {
    const lf = await readMigrationFolder(
      await migrationFolder({ '001_a.sql': 'create table a (id int);\ncreate table b (id int);\n' }),
    )
    const crlf = await readMigrationFolder(
      await migrationFolder({ '001_a.sql': '\uFEFFcreate table a (id int);\r\ncreate table b (id int);\r\n' }),
    )
    expect(crlf[0]!.checksum).toBe(lf[0]!.checksum)
    expect(crlf[0]!.text).toBe(lf[0]!.text)
  })

  it('reads only .sql names: README.txt, notes, .gitkeep and backups are not looked at', async () => {
    const folder = await migrationFolder({
      '001_a.sql': ok,
      'README.txt': 'not SQL',
      notes: 'scratch',
      '.gitkeep': '',
      '001_a.sql~': 'editor backup',
      '002_b.txt': 'a draft, not yet a migration',
      '._001_a.sql': 'macOS metadata',
    })
    await mkdir(join(folder, 'archive'))
    await execFileAsync('mkfifo', [join(folder, 'pipe.txt')])
    expect((await readMigrationFolder(folder)).map((f) => f.fileName)).toEqual(['001_a.sql'])
  })

  for (const [what, make] of [
    ['a directory', (path: string) => mkdir(path)],
    ['a link to a directory', async (path: string) => symlink(await mkdtemp(join(tmpdir(), 'wk-dir-')), path)],
    ['a FIFO', (path: string) => execFileAsync('mkfifo', [path])],
  ] as const) {
    it(`${what} named like a migration is an error that names it`, async () => {
      const folder = await migrationFolder({ '001_a.sql': ok })
      await make(join(folder, '002_b.sql'))
      const error = (await readMigrationFolder(folder).catch((e: unknown) => e)) as MigrationError
      expect([error.code, error.file]).toEqual(['UNREADABLE_FILE', '002_b.sql'])
      expect(error.message).toMatch(/^002_b\.sql: is (a directory|not a regular file)/)
    })
  }

  it('lets a file read the ledgers, and a down file delete its own row', async () => {
    const files = await readMigrationFolder(
      await migrationFolder({
        '001_a.sql': [
          'create table if not exists schema_versions (version integer primary key, description text not null);',
          'create view applied as select version from schema_versions;',
          'create table copied as select * from kysely_migration;',
          'insert into copied select name, timestamp from public.kysely_migration where false;',
          "copy (select * from schema_versions) to '/tmp/wk-ledger-copy.csv';",
          "create function slow() returns int language sql set lock_timeout = '1min' as 'select 1';",
          'alter database current set statement_timeout = 0;',
          "alter role current_user set lock_timeout = '5s';",
          '',
        ].join('\n'),
        '001_a.down.sql': 'drop view applied;\ndelete from schema_versions where version = 1;\n',
        '002_b.sql':
          "-- wukong:own-timeouts\nset lock_timeout = '1min';\nreset all;\nselect set_config('statement_timeout', '0', true);\n",
      }),
    )
    expect(files.map((f) => [f.fileName, f.sql.ownTimeouts])).toEqual([
      ['001_a.sql', false],
      ['002_b.sql', true],
    ])
  })

  it("reads the package's own migrations (the old runner's CREATE TABLE IF NOT EXISTS schema_versions and INSERTs)", async () => {
    const files = await readMigrationFolder(DEFAULT_MIGRATION_FOLDER)
    expect(files.length).toBeGreaterThan(0)
  })

  it('a lone CR ends lines and comments like LF: every statement is kept, at its line', async () => {
    const [file] = await readMigrationFolder(
      await migrationFolder({
        '001_a.sql':
          '-- wukong:no-transaction\r-- a comment\rcreate table a (id int);\r-- another\rcreate table b (id int);\r',
      }),
    )
    expect(file!.sql.transactional).toBe(false)
    expect(file!.sql.statements.map((s) => [s.text, s.line, s.column])).toEqual([
      ['create table a (id int)', 3, 1],
      ['create table b (id int)', 5, 1],
    ])
  })

  it('accepts the no-transaction directive and marks the file non-atomic', async () => {
    const files = await readMigrationFolder(
      await migrationFolder({
        '001_idx.sql': '-- wukong:no-transaction\ncreate index concurrently if not exists i on t (x);\n',
      }),
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
  'a .sql file with upper-case words': {
    files: { '001_Add_Tags.sql': ok },
    code: 'INVALID_FILE_NAME',
    file: '001_Add_Tags.sql',
  },
  'two files with one version': {
    files: { '001_a.sql': ok, '001_b.sql': ok },
    code: 'DUPLICATE_VERSION',
    file: '001_b.sql',
    says: /001_a\.sql/,
  },
  'a down file without its up file': {
    files: { '001_a.sql': ok, '002_b.down.sql': ok },
    code: 'ORPHAN_DOWN_FILE',
    file: '002_b.down.sql',
  },
  'versions whose name order is not their number order': {
    files: { '999_a.sql': ok, '1000_b.sql': ok },
    code: 'MIXED_VERSION_WIDTH',
    file: '1000_b.sql',
  },
  'an empty file': { files: { '001_a.sql': '' }, code: 'EMPTY_MIGRATION', file: '001_a.sql' },
  'a comment-only file': {
    files: { '001_a.sql': '-- nothing yet\n/* still nothing */\n' },
    code: 'EMPTY_MIGRATION',
    file: '001_a.sql',
  },
  'invalid UTF-8': {
    files: {
      '001_a.sql': Buffer.concat([Buffer.from("select 1;\nselect '"), Buffer.from([0xc3, 0x28]), Buffer.from("';\n")]),
    },
    code: 'INVALID_UTF8',
    file: '001_a.sql',
    at: [2, 9],
  },
  'a NUL byte': { files: { '001_a.sql': 'select 1;\nselect 2\0;\n' }, code: 'NUL_BYTE', file: '001_a.sql', at: [2, 9] },
  'a syntax error on the first line': {
    files: { '001_a.sql': 'creat table a (id int);\n' },
    code: 'SQL_SYNTAX_ERROR',
    file: '001_a.sql',
    at: [1, 1],
  },
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
  'SAVEPOINT in a file': {
    files: { '001_a.sql': 'savepoint s;\n' },
    code: 'TRANSACTION_CONTROL',
    file: '001_a.sql',
    at: [1, 1],
  },
  'CREATE INDEX CONCURRENTLY without the directive': {
    files: { '001_a.sql': 'create table a (x int);\n  create index concurrently a_x on a (x);\n' },
    code: 'NON_TRANSACTIONAL_STATEMENT',
    file: '001_a.sql',
    at: [2, 3],
    says: /-- wukong:no-transaction/,
  },
  'an unknown directive': {
    files: { '001_a.sql': '-- wukong:no-transactions\nselect 1;\n' },
    code: 'UNKNOWN_DIRECTIVE',
    file: '001_a.sql',
    at: [1, 1],
  },
  // Files use one version width: verify, create and migrate judge a folder alike.
  'a folder with 3- and 4-digit versions in version order': {
    files: { '001_a.sql': ok, '002_b.sql': ok, '0003_c.sql': ok },
    code: 'MIXED_VERSION_WIDTH',
    file: '0003_c.sql',
  },
  'a 4-digit file among 3-digit ones that sorts first': {
    files: { '0001_a.sql': ok, '002_b.sql': ok, '003_c.sql': ok },
    code: 'MIXED_VERSION_WIDTH',
    file: '0001_a.sql',
  },
  // A lone CR ends a line like LF: directives, comments and line:column agree.
  'CR line endings: an unknown directive on the second line': {
    files: { '001_a.sql': '-- wukong:no-transaction\r-- wukong:nope\rselect 1;\r' },
    code: 'UNKNOWN_DIRECTIVE',
    file: '001_a.sql',
    at: [2, 1],
  },
  'CR line endings: a syntax error after a comment': {
    files: { '001_a.sql': '-- first\rcreate table cr_a (id int);\r-- second\rselect * fromm cr_a;\r' },
    code: 'SQL_SYNTAX_ERROR',
    file: '001_a.sql',
    at: [4, 10],
  },
  'CR line endings: CONCURRENTLY after a comment, without the directive': {
    files: { '001_a.sql': '-- comment\rcreate index concurrently cr_i on fine (id);\r' },
    code: 'NON_TRANSACTIONAL_STATEMENT',
    file: '001_a.sql',
    at: [2, 1],
  },
  // The ledgers (schema_versions, kysely_migration, kysely_migration_lock) are the tool's.
  ...Object.fromEntries(
    (
      [
        ['TRUNCATE schema_versions', 'truncate schema_versions;', [2, 1]],
        ['TRUNCATE of several tables, the ledger last', 'truncate fine, public.schema_versions;', [2, 1]],
        [
          'a DELETE inside a CTE',
          'with gone as (delete from schema_versions returning version) select count(*) from gone;',
          [2, 1],
        ],
        [
          'a DELETE two CTEs deep',
          'select * from (with a as (with b as (delete from schema_versions returning 1) select * from b) select * from a) x;',
          [2, 1],
        ],
        ['an UPDATE of schema_versions', 'update schema_versions set checksum = null;', [2, 1]],
        ['a DELETE of schema_versions in an up file', 'delete from schema_versions where version = 2;', [2, 1]],
        [
          'an INSERT into schema_versions inside a CTE',
          "with x as (insert into schema_versions (version, description) values (2, 'b') returning 1) select * from x;",
          [2, 1],
        ],
        [
          'an INSERT into kysely_migration',
          "insert into kysely_migration (name, timestamp) values ('002_b', 'now');",
          [2, 1],
        ],
        ['DELETE FROM kysely_migration_lock', 'delete from kysely_migration_lock;', [2, 1]],
        ['DROP TABLE kysely_migration', 'drop table if exists fine, kysely_migration;', [2, 1]],
        ['ALTER TABLE schema_versions', 'alter table schema_versions drop column checksum;', [2, 1]],
        ['renaming schema_versions', 'alter table schema_versions rename to old_versions;', [2, 1]],
        ['renaming a table to schema_versions', 'alter table fine rename to schema_versions;', [2, 1]],
        [
          'ALTER … SET SCHEMA of the ledger',
          'create schema elsewhere;\nalter table schema_versions set schema elsewhere;',
          [3, 1],
        ],
        ['COPY into schema_versions', "copy schema_versions (version, description) from '/dev/null';", [2, 1]],
        [
          'a trigger on schema_versions',
          'create function f() returns trigger language plpgsql as $$ begin return null; end $$;\ncreate trigger t before insert on schema_versions for each row execute function f();',
          [3, 1],
        ],
        ['a rule on kysely_migration', 'create rule r as on insert to kysely_migration do instead nothing;', [2, 1]],
        [
          'a table that inherits from schema_versions',
          'create table more_versions () inherits (schema_versions);',
          [2, 1],
        ],
        [
          'a schema_versions table in another schema',
          'create schema shadow;\ncreate table shadow.schema_versions (version int);',
          [3, 1],
        ],
        [
          'CREATE TABLE IF NOT EXISTS of a qualified schema_versions',
          'create schema if not exists shadow;\ncreate table if not exists shadow.schema_versions (version int);',
          [3, 1],
        ],
        ['CREATE TABLE kysely_migration_lock', 'create table if not exists kysely_migration_lock (id text);', [2, 1]],
        [
          'MERGE into schema_versions',
          "merge into schema_versions s using (select 9 as v) x on s.version = x.v when not matched then insert (version, description) values (9, 'x');",
          [2, 1],
        ],
        ['a DO block that truncates the ledger', 'do $$ begin truncate table schema_versions; end $$;', [2, 1]],
        [
          'a LANGUAGE sql function that deletes from kysely_migration',
          "create function wipe() returns void language sql as 'delete from kysely_migration';",
          [2, 1],
        ],
        ['DROP SCHEMA public', 'drop schema public cascade;', [2, 1]],
        ['DROP OWNED', 'drop owned by current_user;', [2, 1]],
      ] as const
    ).map(([name, statement, at]): [string, Rejection] => [
      `ledger write: ${name}`,
      {
        files: { '002_b.sql': `create table b (id int);\n${statement}\n` },
        code: 'LEDGER_WRITE',
        file: '002_b.sql',
        at: [...at],
      },
    ]),
  ),
  "ledger write: a down file that deletes another version's row": {
    files: {
      '002_b.sql': 'create table b (id int);\n',
      '002_b.down.sql': 'drop table b;\ndelete from schema_versions where version = 1;\n',
    },
    code: 'LEDGER_WRITE',
    file: '002_b.down.sql',
    at: [2, 1],
  },
  'ledger write: a down file that deletes every row': {
    files: {
      '002_b.sql': 'create table b (id int);\n',
      '002_b.down.sql': 'drop table b;\ndelete from schema_versions where version >= 2;\n',
    },
    code: 'LEDGER_WRITE',
    file: '002_b.down.sql',
    at: [2, 1],
  },
  // The migration lock stays held for the whole run: nothing in a file may release it.
  ...Object.fromEntries(
    (
      [
        ['DISCARD ALL', '-- wukong:no-transaction\ncreate table if not exists b (id int);\ndiscard all;', [3, 1]],
        [
          'pg_advisory_unlock_all()',
          '-- wukong:no-transaction\ncreate table if not exists b (id int);\nselect pg_advisory_unlock_all();',
          [3, 1],
        ],
        [
          'pg_catalog.pg_advisory_unlock of the migration key',
          'create table b (id int);\nselect pg_catalog.pg_advisory_unlock(3853314791062309107);',
          [2, 1],
        ],
        ['pg_advisory_unlock of another key', 'create table b (id int);\nselect pg_advisory_unlock(1, 2);', [2, 1]],
        [
          'pg_advisory_unlock_shared deep in a query',
          'create table b (id int);\nselect 1 where exists (select 1 from (select pg_advisory_unlock_shared(42)) x);',
          [2, 1],
        ],
        [
          'an unlock in a DO block',
          'create table b (id int);\ndo $$ begin perform pg_advisory_unlock_all(); end $$;',
          [2, 1],
        ],
        [
          'an unlock in a BEGIN ATOMIC function body',
          'create table b (id int);\ncreate function unlock_it() returns void language sql begin atomic; select pg_advisory_unlock_all(); end;',
          [2, 1],
        ],
      ] as const
    ).map(([name, text, at]): [string, Rejection] => [
      `lock release: ${name}`,
      { files: { '002_b.sql': `${text}\n` }, code: 'MIGRATION_LOCK_RELEASE', file: '002_b.sql', at: [...at] },
    ]),
  ),
  // The runner's lock_timeout/statement_timeout hold unless the file says otherwise at its top.
  ...Object.fromEntries(
    (
      [
        ['SET lock_timeout = 0', 'set lock_timeout = 0;'],
        ['SET LOCAL statement_timeout', "set local statement_timeout = '1h';"],
        ['RESET lock_timeout', 'reset lock_timeout;'],
        ['SET lock_timeout TO DEFAULT', 'set lock_timeout to default;'],
        ['RESET ALL', 'reset all;'],
        ["set_config('lock_timeout', …)", "select set_config('lock_timeout', '0', false);"],
        [
          'set_config with a name chosen at run time',
          "select set_config(name, '0', false) from pg_settings where name = 'lock_timeout';",
        ],
        ['SET lock_timeout in a DO block', 'do $$ begin set lock_timeout = 0; end $$;'],
      ] as const
    ).map(([name, statement]): [string, Rejection] => [
      `limit override: ${name}`,
      {
        files: { '002_b.sql': `create table b (id int);\n  ${statement}\n` },
        code: 'LIMIT_OVERRIDE',
        file: '002_b.sql',
        at: [2, 3],
        says: /-- wukong:own-timeouts/,
      },
    ]),
  ),
  'limit override: the directive below the top does not count': {
    files: { '002_b.sql': 'create table b (id int);\n-- wukong:own-timeouts\nset lock_timeout = 0;\n' },
    code: 'LIMIT_OVERRIDE',
    file: '002_b.sql',
    at: [3, 1],
  },
  'a schema_versions INSERT for another version': {
    files: {
      '002_b.sql': "create table b (id int);\ninsert into schema_versions (version, description) values (3, 'b');\n",
    },
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
      const error = await new MigrationRunner({ db: handle.db, migrationFolder: folder, log: () => {} })
        .migrate()
        .catch((e: unknown) => e)
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
    // 16× the statements: 16× the time if linear, about 256× if quadratic (locating line:column
    // from the start of the file for every statement once made 4× the statements cost 12–16×).
    // The fastest of three interleaved reads of each size, and a bound 4× from both: a loaded
    // machine slows single reads, not all three.
    let small = Number.POSITIVE_INFINITY
    let large = Number.POSITIVE_INFINITY
    for (let i = 0; i < 3; i++) {
      small = Math.min(small, await time(1_250))
      large = Math.min(large, await time(20_000))
    }
    expect(large / small).toBeLessThan(64)
  })

  it('a FIFO named like a migration is refused, not waited on forever', { timeout: 60_000 }, async () => {
    const folder = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    const fifo = join(folder, '002_b.sql')
    execFileSync('mkfifo', [fifo])
    try {
      const outcome = await Promise.race([
        readMigrationFolder(folder).then(
          () => 'read',
          (e: MigrationError) => e.code,
        ),
        // Opened for reading, a FIFO without a writer blocks forever; refusing it takes no wait.
        new Promise((r) => setTimeout(() => r('still waiting after 30 s'), 30_000)),
      ])
      expect(outcome).toBe('UNREADABLE_FILE')
    } finally {
      // Let the blocked open() return, so no thread of the pool stays stuck.
      const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined)
      await writer?.close()
    }
  })
})
