import { mkdir, readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { COMMANDS, flagsOf } from '../src/cli/command-table.js'
import { type CliFlag, FLAGS } from '../src/cli/flag-table.js'
import { migrationSlug } from '../src/cli/new-migration-file.js'
import { parseCliArgs } from '../src/cli/parse-args.js'
import { commandTitle, flagTitle } from '../src/cli/usage.js'
import { MIGRATION_FILE_PATTERN } from '../src/provider/index.js'
import { BIN, cli, folderWith, jsonOf, ROOT } from './support/cli-process.js'
import { runCliHere } from './support/run-cli-in-process.js'

// The commands that never open a database: help, usage errors, verify and create. Every run
// here has no URL variable at all, so a connection attempt would show up as the embedded
// database's announcement on stderr.
const ENVELOPE = ['version', 'command', 'ok', 'exitCode', 'database', 'folder']
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

describe('wukong-migrate: help and usage (exit 0 and 2)', () => {
  it('--help prints the usage on stdout and exits 0 (the bin run through its shebang)', async () => {
    const run = await cli(['--help'], {
      command: [BIN],
      env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Usage: wukong-migrate <command>/)
    for (const word of [
      'migrate, up',
      'status',
      'down [--to N]',
      'create <name>',
      'plan',
      'verify',
      '--url',
      '--dir',
      '--json',
      '--check',
      '--allow-drift',
      '--lock-timeout',
      '--statement-timeout',
      '--busy-timeout',
    ]) {
      expect(run.stdout).toContain(word)
    }
    expect(run.stderr).toBe('')
  })

  it('help --json is a version 1 document', async () => {
    const doc = jsonOf(await cli(['help', '--json']))
    expect(Object.keys(doc)).toEqual([...ENVELOPE, 'usage', 'error'])
    expect(doc).toMatchObject({ version: 1, command: 'help', ok: true, exitCode: 0, error: null })
  })

  it.each([
    [['frob'], /unknown command "frob"/],
    [[], /no command given/],
    [['status', '--bogus'], /unknown flag "--bogus"/],
    [['migrate', '--to', '3'], /--to does not apply to migrate/],
    [['migrate', '--check'], /--check does not apply to migrate/],
    [['status', '--allow-drift'], /--allow-drift does not apply to status/],
    [['verify', '--url', 'postgres://u:Pw-in-argv-77@127.0.0.1:1/x'], /--url does not apply to verify/],
    [['migrate', '--lock-timeout', 'soon'], /--lock-timeout needs a whole number/],
    [['down', '--to', '-1'], /--to/],
    [['status', 'extra'], /unexpected argument "extra"/],
    [['create'], /create needs a name/],
    [['create', 'a', 'b'], /create takes one name/],
    [['create', '!!!', '--dir', '/tmp'], /no letters or digits/],
  ])('%j is a usage error: exit 2, nothing on stdout', async (args, message) => {
    const run = await cli(args)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^error\[USAGE\]: /)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).not.toContain('Pw-in-argv-77')
  })

  it('a usage error with --json is a document on stdout, exit 2', async () => {
    const run = await cli(['status', '--json', '--bogus', '--url', 'postgres://u:Pw-in-argv-77@127.0.0.1:1/x'])
    expect(run.code).toBe(2)
    const doc = jsonOf(run)
    expect(Object.keys(doc)).toEqual([...ENVELOPE, 'error'])
    expect(doc).toMatchObject({ version: 1, command: 'status', ok: false, exitCode: 2, error: { code: 'USAGE' } })
    expect(Object.keys(doc['error'] as object)).toEqual(ERROR_KEYS)
    expect(run.stdout + run.stderr).not.toContain('Pw-in-argv-77')
  })
})

describe('wukong-migrate verify (offline, no database)', { timeout: 120_000 }, () => {
  it('passes a good folder, lists its files and warns about gaps, ignored directives and what would block a live app', async () => {
    const dir = await folderWith({
      '001_people.sql': 'create table people (id int primary key);\n',
      '002_tags.sql': 'create table tags (id int);\n-- wukong:no-transaction\n',
      '002_tags.down.sql': 'drop table tags;\n',
      '005_index.sql': '-- wukong:no-transaction\ncreate index concurrently if not exists people_id on people (id);\n',
      'README.md': 'not a migration',
    })
    const run = await cli(['verify', '--dir', dir])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/ok {2}001_people\.sql/)
    expect(run.stdout).toMatch(/005_index\.sql .*not atomic/)
    expect(run.stdout).toContain('down: 002_tags.down.sql')
    expect(run.stdout).toMatch(/verify passed: 3 files, 3 warnings/)
    // The linter's finding: the down file drops a table running code may still use.
    expect(run.stderr).toMatch(/warning\[drop-table\]: 002_tags\.down\.sql:1: /)
    expect(run.stderr).toMatch(
      /warning\[VERSION_GAP\]: 005_index\.sql: versions 3–4 are not used between 002_tags\.sql and 005_index\.sql/,
    )
    expect(run.stderr).toMatch(/warning\[IGNORED_DIRECTIVE\]: 002_tags\.sql:2: /)
    expect(run.stderr).not.toMatch(/embedded|PGlite/)

    const doc = jsonOf(await cli(['verify', '--dir', dir, '--json']))
    expect(Object.keys(doc)).toEqual([...ENVELOPE, 'files', 'errors', 'warnings', 'error'])
    expect(doc).toMatchObject({
      version: 1,
      command: 'verify',
      ok: true,
      exitCode: 0,
      database: null,
      folder: dir,
      errors: [],
      error: null,
    })
    expect(doc['files']).toEqual([
      { version: 1, name: '001_people', fileName: '001_people.sql', statements: 1, atomic: true, down: null },
      {
        version: 2,
        name: '002_tags',
        fileName: '002_tags.sql',
        statements: 1,
        atomic: true,
        down: '002_tags.down.sql',
      },
      { version: 5, name: '005_index', fileName: '005_index.sql', statements: 1, atomic: false, down: null },
    ])
    expect(doc['warnings']).toEqual([
      expect.objectContaining({ code: 'VERSION_GAP', file: '005_index.sql', line: null }),
      expect.objectContaining({ code: 'IGNORED_DIRECTIVE', file: '002_tags.sql', line: 2 }),
      expect.objectContaining({ code: 'drop-table', file: '002_tags.down.sql', line: 1 }),
    ])
  })

  it('reports ledger writes, lock releases and timeout overrides with line:column, and a directory named like a file', async () => {
    const dir = await folderWith({
      '001_a.sql': 'create table a (id int);\ntruncate schema_versions;\n',
      '002_b.sql': 'create table b (id int);\n  select pg_advisory_unlock_all();\n',
      '003_c.sql': 'create table c (id int);\nreset all;\n',
      '004_d.sql': '-- wukong:own-timeouts\nreset all;\n',
      '004_d.down.sql': 'drop table d;\ndelete from schema_versions where version = 4;\n',
      'notes.txt': 'ignored',
    })
    await mkdir(join(dir, '005_e.sql'))
    const doc = jsonOf(await cli(['verify', '--dir', dir, '--json']))
    expect(doc['errors']).toEqual([
      expect.objectContaining({ code: 'LEDGER_WRITE', file: '001_a.sql', line: 2, column: 1 }),
      expect.objectContaining({ code: 'MIGRATION_LOCK_RELEASE', file: '002_b.sql', line: 2, column: 3 }),
      expect.objectContaining({ code: 'LIMIT_OVERRIDE', file: '003_c.sql', line: 2, column: 1 }),
      expect.objectContaining({ code: 'UNREADABLE_FILE', file: '005_e.sql' }),
    ])
  })

  it('fails a bad folder with every problem listed, exit 1, with no environment at all', async () => {
    const dir = await folderWith({
      '001_ok.sql': 'create table ok (id int);\n',
      '002_a.sql': 'create table a (id int);\n',
      '002_b.sql': 'create table b (id int);\n',
      '003_syntax.sql': '-- fine so far\ncreate table c (\n  id int,\n  name txet not null,,\n);\n',
      '004_directive.sql': '-- wukong:no-transactions\nselect 1;\n',
      '005_txn.sql': 'begin;\ncreate table d (id int);\ncommit;\n',
      '006_concurrently.sql': 'create index concurrently d_id on d (id);\n',
      '007_empty.sql': '-- nothing yet\n',
      '009_orphan.down.sql': 'select 1;\n',
      'Bad Name.sql': 'select 1;\n',
    })
    // `env -i`: not even PATH, HOME or a URL variable; verify must not need any.
    const run = await cli(['verify', '--dir', dir], {
      command: ['env', '-i', process.execPath, join(ROOT, 'bin/wukong-migrate.js')],
    })
    expect(run.code).toBe(1)
    const codes = [...run.stderr.matchAll(/^error\[([A-Z_]+)\]/gm)].map((m) => m[1])
    expect(codes.sort()).toEqual(
      [
        'DUPLICATE_VERSION',
        'EMPTY_MIGRATION',
        'INVALID_FILE_NAME',
        'NON_TRANSACTIONAL_STATEMENT',
        'ORPHAN_DOWN_FILE',
        'SQL_SYNTAX_ERROR',
        'TRANSACTION_CONTROL',
        'UNKNOWN_DIRECTIVE',
      ].sort(),
    )
    expect(run.stdout).toMatch(/verify failed: 8 errors/)
    // The syntax error is drawn with its line and a caret under the column.
    const lines = run.stderr.split('\n')
    const at = lines.findIndex((l) => /--> .*003_syntax\.sql:4:\d+$/.test(l))
    expect(at).toBeGreaterThan(-1)
    const column = Number(/:4:(\d+)$/.exec(lines[at]!)![1])
    expect(lines[at + 2]).toBe('4 |   name txet not null,,')
    expect(lines[at + 3]!.indexOf('^') - '4 | '.length + 1).toBe(column)
    expect('  name txet not null,,'[column - 1]).toBe(',')

    const doc = jsonOf(
      await cli(['verify', '--dir', dir, '--json'], {
        command: ['env', '-i', process.execPath, join(ROOT, 'bin/wukong-migrate.js')],
      }),
    )
    expect(doc).toMatchObject({ ok: false, exitCode: 1, files: [] })
    const errors = doc['errors'] as { code: string; file: string; line: number | null; sourceLine: string | null }[]
    expect(errors).toHaveLength(8)
    for (const e of errors) expect(Object.keys(e)).toEqual(ERROR_KEYS)
    expect(errors.find((e) => e.code === 'SQL_SYNTAX_ERROR')).toMatchObject({
      file: '003_syntax.sql',
      line: 4,
      sourceLine: '  name txet not null,,',
    })
    expect(errors.find((e) => e.code === 'DUPLICATE_VERSION')).toMatchObject({ file: '002_b.sql' })
    expect((doc['error'] as { code: string }).code).toBe(errors[0]!.code)
  })

  it('fails a folder that does not exist', async () => {
    const run = await cli(['verify', '--dir', '/nonexistent/wk-migrations'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /error\[FOLDER_NOT_FOUND\]: migration folder \/nonexistent\/wk-migrations cannot be read \(ENOENT\)/,
    )
    expect(run.stderr).toContain('pass --dir')
  })
})

describe('wukong-migrate create', { timeout: 120_000 }, () => {
  it('numbers from 001 in an empty (even missing) folder and writes the commented template', async () => {
    const dir = join(await folderWith({}), 'migrations')
    const run = await cli(['create', 'Add people', '--dir', dir])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Created')
    expect(run.stdout).toContain('001_add_people.sql')
    const text = await readFile(join(dir, '001_add_people.sql'), 'utf8')
    expect(text).toMatch(/^-- 001_add_people\.sql\n/)
    expect(text.split('\n').every((l) => l === '' || l.startsWith('--'))).toBe(true)
    expect(text).toContain('-- wukong:no-transaction')
    expect(text).toContain('001_add_people.down.sql')

    // An untouched template cannot be applied by accident: verify rejects it as empty.
    const verify = await cli(['verify', '--dir', dir])
    expect(verify.code).toBe(1)
    expect(verify.stderr).toMatch(/error\[EMPTY_MIGRATION\]/)
  })

  it('follows the highest number and the widest width, and refuses a name in use', async () => {
    const dir = await folderWith({
      '001_a.sql': 'select 1;',
      '007_b.sql': 'select 1;',
      '007_b.down.sql': 'select 1;',
      'notes.md': '',
    })
    const next = jsonOf(await cli(['create', 'add-session-tags', '--dir', dir, '--json']))
    expect(Object.keys(next)).toEqual([...ENVELOPE, 'file', 'error'])
    expect(next).toMatchObject({
      version: 1,
      command: 'create',
      ok: true,
      exitCode: 0,
      database: null,
      file: {
        version: 8,
        name: '008_add_session_tags',
        fileName: '008_add_session_tags.sql',
        path: join(dir, '008_add_session_tags.sql'),
      },
    })

    const wide = await folderWith({ '0001_a.sql': 'select 1;', '0012_b.sql': 'select 1;' })
    expect(jsonOf(await cli(['create', 'c', '--dir', wide, '--json']))).toMatchObject({
      file: { fileName: '0013_c.sql' },
    })

    const twice = await cli(['create', 'B', '--dir', dir])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toMatch(/error\[NAME_EXISTS\]: 007_b\.sql already uses the name "b"/)
    const json = await cli(['create', '008_add_session_tags', '--dir', dir, '--json'])
    expect(json.code).toBe(1)
    expect(jsonOf(json)).toMatchObject({
      ok: false,
      file: null,
      error: { code: 'NAME_EXISTS', file: '008_add_session_tags.sql' },
    })
    expect((await readdir(dir)).sort()).toEqual([
      '001_a.sql',
      '007_b.down.sql',
      '007_b.sql',
      '008_add_session_tags.sql',
      'notes.md',
    ])
  })

  it('judges a folder of mixed version widths as verify and migrate do', async () => {
    // Name order agrees with version order here, yet the next file would not: refused alike.
    for (const files of [
      { '0001_a.sql': 'select 1;', '002_b.sql': 'select 1;' },
      { '001_a.sql': 'select 1;', '002_b.sql': 'select 1;', '0003_c.sql': 'select 1;' },
    ] as Record<string, string>[]) {
      const dir = await folderWith(files)
      const create = await cli(['create', 'next', '--dir', dir])
      const verify = await cli(['verify', '--dir', dir])
      expect(create.code).toBe(1)
      expect(verify.code).toBe(1)
      expect(create.stderr).toMatch(/error\[MIXED_VERSION_WIDTH\]/)
      expect(verify.stderr).toMatch(/error\[MIXED_VERSION_WIDTH\]/)
      expect(await readdir(dir)).toHaveLength(Object.keys(files).length)
    }
    // A folder of one width is continued at that width, whatever else lies in it.
    const four = await folderWith({
      '0001_a.sql': 'select 1;',
      '0002_b.sql': 'select 1;',
      'README.txt': '',
      '.gitkeep': '',
    })
    expect(jsonOf(await cli(['create', 'c', '--dir', four, '--json']))).toMatchObject({
      file: { fileName: '0003_c.sql' },
    })
    expect((await cli(['verify', '--dir', four])).code).toBe(1) // the new template is empty until written
  })

  it("refuses to outgrow the folder's digit width (names must keep sorting in version order)", async () => {
    const dir = await folderWith({ '999_last.sql': 'select 1;' })
    const run = await cli(['create', 'one_more', '--dir', dir])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error\[MIXED_VERSION_WIDTH\]: version 1000 needs 4 digits but the folder's files use 3/)
  })
})

describe('wukong-migrate: the command table is what parses, helps and is documented', () => {
  const DB = 'postgres://u:Pw-in-argv-77@127.0.0.1:1/x'
  it.each([
    // A value flag whose value is missing does not swallow the next flag.
    [['up', '--url', '--json'], '--url needs a value, e.g. --url postgres://user@host:5432/db'],
    [['status', '--url', ''], '--url needs a value'],
    [['status', '--url='], '--url needs a value'],
    [['status', '--url', ' '], '--url needs a value'],
    [['status', '--url', '-h'], '--url needs a value'],
    [['migrate', '--dir', '--json'], '--dir needs a value, e.g. --dir migrations'],
    [['migrate', '--env-file', '--url', DB], '--env-file needs a value'],
    [['diff', '--shadow-url', '--json'], '--shadow-url needs a value'],
    [['migrate', '--lock-timeout', '--json'], '--lock-timeout needs a value, e.g. --lock-timeout 10000'],
    [['down', '--to'], '--to needs a value, e.g. --to 3'],
    [['status', '--url', DB, '--url', DB], '--url is given twice'],
    // Numbers: whole, not negative, within PostgreSQL's (and Node's timers') 32-bit range.
    [
      ['migrate', '--lock-timeout', 'soon'],
      '--lock-timeout needs a whole number from 0 to 2147483647 (milliseconds), got "soon"',
    ],
    [
      ['migrate', '--lock-timeout', '-5'],
      '--lock-timeout needs a whole number from 0 to 2147483647 (milliseconds), got "-5"',
    ],
    [['migrate', '--statement-timeout', '1.5'], '--statement-timeout needs a whole number from 0 to 2147483647'],
    [['status', '--connect-timeout', '1e3'], '--connect-timeout needs a whole number from 0 to 2147483647'],
    [['migrate', '--lock-wait-timeout', '2147483648'], '--lock-wait-timeout needs a whole number from 0 to 2147483647'],
    [['status', '--busy-timeout', '0x10'], '--busy-timeout needs a whole number from 0 to 2147483647'],
    [['down', '--to', '2.0'], '--to needs a whole number from 0 to 2147483647 (a version), got "2.0"'],
    [['down', '--to', '-1'], '--to needs a whole number from 0 to 2147483647 (a version), got "-1"'],
    [['down', '--to', '99999999999999999999'], '--to needs a whole number from 0 to 2147483647'],
    // A flag the command does not take names the command.
    [
      ['create', 'x', '--url', DB],
      '--url does not apply to create (it applies to migrate, status, down, plan, verify, diff, lint)',
    ],
    [['diff', '--lock-timeout', '5'], '--lock-timeout does not apply to diff'],
    [['plan', '--to', '1'], '--to does not apply to plan (it applies to down)'],
    [['verify', '--embedded'], '--embedded does not apply to verify without --roundtrip'],
    [['verify', '--require-down'], '--require-down does not apply to verify without --roundtrip'],
    [['migrate', '--url', DB, '--embedded'], '--url and --embedded name two different databases'],
  ])('%j: exit 2 before anything is opened, naming the flag', async (args, message) => {
    const run = await runCliHere(args)
    expect(run.code).toBe(2)
    if (args.includes('--json')) {
      // `--url --json`: the script wanted JSON, and gets its usage error as the document.
      expect(jsonOf(run)).toMatchObject({ exitCode: 2, database: null, error: { code: 'USAGE' } })
      expect((jsonOf(run)['error'] as { message: string }).message).toContain(message)
    } else {
      expect(run.stdout).toBe('')
      expect(run.stderr.split('\n')[0]).toContain(`error[USAGE]: ${message}`)
    }
    expect(run.stdout + run.stderr).not.toContain('Pw-in-argv-77')
    expect(run.stderr).not.toMatch(/embedded PGlite/)
  })

  it.each([
    ['down', ['--to', '0'], { to: 0 }],
    ['down', ['--to', '007'], { to: 7 }],
    [
      'migrate',
      ['--lock-timeout', '2147483647', '--dir=-odd-folder'],
      { lockTimeoutMs: 2147483647, dir: '-odd-folder' },
    ],
    ['up', ['--env-file', 'a.env', '--env-file=b.env'], { command: 'migrate', envFiles: ['a.env', 'b.env'] }],
  ])('%s %j parses', (command, args, expected) => {
    expect(parseCliArgs([command, ...args])).toMatchObject(expected)
  })

  it.each([
    ['Add session-tags', 'add_session_tags'],
    ['  Ädd Session/Tags ', 'add_session_tags'],
    ['café crème', 'cafe_creme'],
    ['Über-Straße', 'uber_strasse'],
    ['005_Add_People.sql', 'add_people'],
    ['2FA for admins!', '2fa_for_admins'],
    ['..\\windows\\path', 'windows_path'],
    ['emoji 🚀 launch', 'emoji_launch'],
    [`${'word '.repeat(20)}`, 'word_word_word_word_word_word_word_word_word_word_word_word'],
    ['x'.repeat(300), 'x'.repeat(60)],
  ])('create %j names the file %j', (name, slug) => {
    expect(migrationSlug(name)).toBe(slug)
    expect(`001_${slug}.sql`).toMatch(MIGRATION_FILE_PATTERN)
  })

  it.each(['', '   ', '...', '../..', '/', '日本語', '🚀', '.sql'])(
    'create %j is refused: nothing to name it with',
    async (name) => {
      const dir = await folderWith({})
      const run = await runCliHere(['create', name, '--dir', dir])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/^error\[USAGE\]: ".*" has no letters or digits to name a migration with/)
      expect(await readdir(dir)).toEqual([])
    },
  )

  it('every command and flag of the table is in --help, in its command help, and in docs/cli.md', async () => {
    const usage = (await runCliHere(['--help'])).stdout
    const docs = await readFile(join(ROOT, 'docs/cli.md'), 'utf8')
    const section = docs.slice(docs.indexOf('<!-- cli:start'), docs.indexOf('<!-- cli:end -->'))
    for (const command of COMMANDS) {
      expect(usage).toContain(`\n  ${commandTitle(command)}`)
      expect(section).toContain(`| \`${commandTitle(command)}\` |`)
      if (command.run) {
        const help = (await runCliHere([command.name, '--help'])).stdout
        for (const flag of flagsOf(command)) expect(help).toContain(`\n  ${flagTitle(flag)}`)
      }
    }
    for (const flag of Object.keys(FLAGS) as CliFlag[]) {
      expect(usage).toContain(`\n  ${flagTitle(flag)}`)
      expect(section).toContain(`| \`${flagTitle(flag)}\` |`)
    }
    // And the section is exactly what the table renders today.
    const check = await cli(['scripts/cli-docs.ts', '--check'], {
      command: [process.execPath, '--import', 'tsx'],
      cwd: ROOT,
    })
    expect(check).toMatchObject({ code: 0, stderr: '' })
  })
})
