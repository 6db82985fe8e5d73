import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadEnvFiles } from '../src/cli/load-env-files.js'
import { runCli } from '../src/cli/run-cli.js'
import { MigrationRunner, NoDatabaseUrlError, openMigrationDatabase } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle, type TestServer } from '../src/testing/test-server.js'
import { BIN, cli, cliEnv, folderWith, jsonOf, ROOT } from './support/cli-process.js'
import { runCliHere } from './support/run-cli-in-process.js'
import { needsServer } from './support/needs-server.js'

// How the CLI and the runner find their database: the four URL variables in order, .env files
// (the CLI only), the refusal to fall back to the embedded database in production, --embedded;
// and the command-line conventions: --version, <command> --help, output into a closed pipe.
const server: TestServer = await resolveTestServer()
const handles: TestDatabaseHandle[] = []
afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()))
})

const FILES = {
  '001_a.sql': 'create table a (id int);\n',
  '002_b.sql': 'create table b (id int);\n',
  '003_c.sql': 'create table c (id int);\n',
  '004_d.sql': 'create table d (id int);\n',
}
// Nothing listens on port 1: a run fails fast, but its JSON document still names the database.
const nowhere = (db: string, password = 'pw-never-shown'): string =>
  `postgres://app:${password}@127.0.0.1:1/${db}?connect_timeout=2`

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-env-'))
  await Promise.all(Object.entries(files).map(([name, body]) => writeFile(join(dir, name), body)))
  return dir
}

async function databaseOf(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const run = await cli(['status', '--json', '--dir', join(ROOT, 'migrations'), ...args], { cwd, env })
  const doc = jsonOf(run)
  expect(run.stdout + run.stderr).not.toContain('pw-never-shown')
  return doc['database'] as Record<string, unknown>
}

describe('the database URL: variables and env files', { timeout: 120_000 }, () => {
  it('DATABASE_URL is read after the three POSTGRES_* variables', async () => {
    const cwd = await project({})
    expect(await databaseOf([], cwd, { DATABASE_URL: nowhere('from_database_url') })).toMatchObject({
      source: 'DATABASE_URL',
      url: expect.stringContaining('/from_database_url'),
    })
    expect(
      await databaseOf([], cwd, { DATABASE_URL: nowhere('d'), POSTGRES_PRISMA_URL: nowhere('prisma') }),
    ).toMatchObject({ source: 'POSTGRES_PRISMA_URL' })
  })

  it('.env and .env.local in the working directory: the real environment wins, then .env.local, then .env', async () => {
    const both = await project({
      '.env': `DATABASE_URL=${nowhere('from_env')}\n`,
      '.env.local': `DATABASE_URL="${nowhere('from_env_local')}"\n`,
    })
    const envOnly = await project({ '.env': `# comment\nexport DATABASE_URL=${nowhere('from_env')}\n` })
    expect(await databaseOf([], envOnly)).toMatchObject({
      source: 'DATABASE_URL',
      url: expect.stringContaining('/from_env?'),
    })
    expect(await databaseOf([], both)).toMatchObject({
      source: 'DATABASE_URL',
      url: expect.stringContaining('/from_env_local?'),
    })
    expect(await databaseOf([], both, { DATABASE_URL: nowhere('from_shell') })).toMatchObject({
      url: expect.stringContaining('/from_shell?'),
    })
    // The variables are merged first, then read in their order: POSTGRES_URL from .env beats
    // DATABASE_URL from the shell.
    const mixed = await project({ '.env': `POSTGRES_URL=${nowhere('pooled_from_file')}\n` })
    expect(await databaseOf([], mixed, { DATABASE_URL: nowhere('from_shell') })).toMatchObject({
      source: 'POSTGRES_URL',
    })
  })

  it('--env-file replaces .env and .env.local; a missing one is a usage error', async () => {
    const cwd = await project({
      '.env': `DATABASE_URL=${nowhere('from_env')}\n`,
      'prod.env': `DATABASE_URL=${nowhere('from_prod')}\n`,
      'later.env': `DATABASE_URL=${nowhere('from_later')}\n`,
    })
    expect(await databaseOf(['--env-file', 'prod.env'], cwd)).toMatchObject({
      url: expect.stringContaining('/from_prod?'),
    })
    expect(await databaseOf(['--env-file', 'prod.env', '--env-file', join(cwd, 'later.env')], cwd)).toMatchObject({
      url: expect.stringContaining('/from_later?'),
    })
    expect(await databaseOf(['--env-file', 'prod.env'], cwd, { DATABASE_URL: nowhere('from_shell') })).toMatchObject({
      url: expect.stringContaining('/from_shell?'),
    })
    // Node itself looks for `--env-file` among a script's arguments and exits 9 when the file is
    // missing, before the CLI runs (nodejs/node#54232); through runCli it is a usage error.
    const missing = await cli(['status', '--env-file', 'nope.env'], { cwd })
    expect(missing.stdout).toBe('')
    expect(missing.stderr).not.toMatch(/\n\s+at /)
    if (missing.code === 9) expect(missing.stderr).toMatch(/^\S*node: nope\.env: not found\n$/)
    else {
      expect(missing.code).toBe(2)
      expect(missing.stderr).toMatch(/^error\[USAGE\]: --env-file .*nope\.env: no such file/)
    }
    const chunks: string[] = []
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk.toString())
        done()
      },
    })
    expect(await runCli(['status', '--env-file', 'nope.env'], { stdout: sink, stderr: sink, env: cliEnv(), cwd })).toBe(
      2,
    )
    expect(chunks.join('')).toMatch(/^error\[USAGE\]: --env-file .*nope\.env: no such file/)
  })

  it('a password from an env file is redacted like one from the environment', async () => {
    const cwd = await project({
      '.env': `DATABASE_URL=postgres://app:Env-File-Secret-9@127.0.0.1:1/x?connect_timeout=2\n`,
    })
    const run = await cli(['status'], { cwd })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'error[CONNECTION_FAILED]: cannot connect to the database from DATABASE_URL (postgres://app:***@127.0.0.1:1/x',
    )
    expect(run.stdout + run.stderr).not.toContain('Env-File-Secret')
  })
})

describe('no URL in production: a clear refusal instead of the embedded database', { timeout: 180_000 }, () => {
  it.each([
    [{ NODE_ENV: 'production' }, 'NODE_ENV=production'],
    [{ VERCEL: '1' }, 'VERCEL=1'],
    [{ VERCEL_ENV: 'preview' }, 'VERCEL_ENV=preview'],
  ])('the CLI with %j: exit 1, NO_DATABASE_URL, nothing created', async (env, signal) => {
    const cwd = await project({})
    const dataDir = join(cwd, 'pglite')
    const run = await cli(['migrate', '--json'], { cwd, env: { ...env, WUKONG_PGLITE_DIR: dataDir } })
    expect(run.code).toBe(1)
    const doc = jsonOf(run)
    expect(doc).toMatchObject({ ok: false, error: { code: 'NO_DATABASE_URL' } })
    const message = (doc['error'] as { message: string }).message
    for (const name of [
      'POSTGRES_URL_NON_POOLING',
      'DATABASE_URL_UNPOOLED',
      'POSTGRES_URL',
      'POSTGRES_PRISMA_URL',
      'DATABASE_URL',
      signal,
    ])
      expect(message).toContain(name)
    expect(existsSync(dataDir)).toBe(false)
  })

  it('NODE_ENV=production from .env counts too; the human error names the variables and the way out', async () => {
    const cwd = await project({ '.env': 'NODE_ENV=production\n' })
    const run = await cli(['status'], { cwd, env: { WUKONG_PGLITE_DIR: join(cwd, 'pglite') } })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /^error\[NO_DATABASE_URL\]: no database URL: none of POSTGRES_URL_NON_POOLING, DATABASE_URL_UNPOOLED, POSTGRES_URL, POSTGRES_PRISMA_URL, DATABASE_URL is set/,
    )
    expect(run.stderr).toContain('--embedded')
    expect(existsSync(join(cwd, 'pglite'))).toBe(false)
  })

  it('--embedded uses the embedded database on purpose, even with VERCEL=1; --url with it is a usage error', async () => {
    const cwd = await project({})
    const dataDir = join(cwd, 'pglite')
    const dir = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
    const run = await cli(['migrate', '--embedded', '--dir', dir], {
      cwd,
      env: { VERCEL: '1', WUKONG_PGLITE_DIR: dataDir },
    })
    expect(run.stderr).toContain(`Using the embedded PGlite database in ${dataDir} (embedded: true)`)
    expect(run.code).toBe(0)
    expect(existsSync(dataDir)).toBe(true)
    const both = await cli(['migrate', '--embedded', '--url', nowhere('x')])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/^error\[USAGE\]: --url and --embedded/)
  })

  it('the runner and openMigrationDatabase refuse too; embedded: true allows it; embedded: false refuses anywhere', async () => {
    const cwd = await project({})
    const dataDir = join(cwd, 'pglite')
    const folder = await folderWith({ '001_a.sql': 'create table a (id int);\n' })
    const lines: string[] = []
    const refused = await new MigrationRunner({
      env: { NODE_ENV: 'production', WUKONG_PGLITE_DIR: dataDir },
      migrationFolder: folder,
      log: (l) => lines.push(l),
    })
      .migrate()
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(NoDatabaseUrlError)
    expect(refused).toMatchObject({
      code: 'NO_DATABASE_URL',
      variables: [
        'POSTGRES_URL_NON_POOLING',
        'DATABASE_URL_UNPOOLED',
        'POSTGRES_URL',
        'POSTGRES_PRISMA_URL',
        'DATABASE_URL',
      ],
      signals: ['NODE_ENV=production'],
    })
    expect(existsSync(dataDir)).toBe(false)
    expect(lines).toEqual([])

    await expect(openMigrationDatabase({ env: { VERCEL_ENV: 'production' }, dataDir })).rejects.toMatchObject({
      code: 'NO_DATABASE_URL',
      signals: ['VERCEL_ENV=production'],
    })
    await expect(openMigrationDatabase({ env: {}, embedded: false, dataDir })).rejects.toMatchObject({
      code: 'NO_DATABASE_URL',
      signals: [],
    })

    const runner = new MigrationRunner({
      env: { NODE_ENV: 'production', WUKONG_PGLITE_DIR: dataDir },
      embedded: true,
      migrationFolder: folder,
      log: (l) => lines.push(l),
    })
    try {
      expect(await runner.migrate()).toMatchObject({ currentVersion: 1 })
      expect(runner.source).toBe('embedded')
    } finally {
      await runner.close()
    }
    expect(lines).toEqual([`Using the embedded PGlite database in ${dataDir} (embedded: true)`])
  })
  it('the runner (the library) reads no .env file: an app loads its own', async () => {
    // If .env were read, DATABASE_URL would be tried (CONNECTION_FAILED); it is not: NO_DATABASE_URL.
    const cwd = await project({
      '.env': `DATABASE_URL=${nowhere('from_env')}\n`,
      '.env.local': `DATABASE_URL=${nowhere('from_env_local')}\n`,
    })
    const script = join(cwd, 'boot.mts')
    await writeFile(
      script,
      `import { MigrationRunner } from ${JSON.stringify(join(ROOT, 'src/index.ts'))}\n` +
        `const error = await new MigrationRunner().migrate().then(() => null, (e: { code?: string }) => e.code)\nconsole.log(error)\n`,
    )
    const run = await cli([script], {
      cwd,
      env: { NODE_ENV: 'production' },
      command: [process.execPath, '--import', import.meta.resolve('tsx')],
    })
    expect(run.stdout).toBe('NO_DATABASE_URL\n')
    expect(run.code).toBe(0)
  })
})

describe.skipIf(needsServer(server, 'DATABASE_URL against the server'))(
  'DATABASE_URL against the server',
  { timeout: 180_000 },
  () => {
    let url: string
    beforeAll(async () => {
      const handle = await server.createDatabase()
      handles.push(handle)
      url = handle.url!
    })

    it('the runner migrates the database DATABASE_URL names, in production, and logs which variable it used', async () => {
      const lines: string[] = []
      const runner = new MigrationRunner({
        env: { DATABASE_URL: url, NODE_ENV: 'production', VERCEL: '1' },
        migrationFolder: await folderWith(FILES),
        log: (l) => lines.push(l),
      })
      try {
        expect(await runner.migrate()).toMatchObject({ currentVersion: 4 })
        expect(runner.source).toBe('DATABASE_URL')
      } finally {
        await runner.close()
      }
      const shown = new URL(url)
      if (shown.password) shown.password = '***'
      expect(lines).toEqual([`Using the database from DATABASE_URL (${shown.toString()})`])
    })

    it('the CLI reads it from .env', async () => {
      const cwd = await project({ '.env': `DATABASE_URL=${url}\n` })
      const run = await cli(['status', '--check', '--dir', await folderWith(FILES)], { cwd })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain('(from DATABASE_URL)')
    })

    it('status | head -1 ends quietly with exit 0 and no stack trace', async () => {
      const dir = await folderWith(FILES)
      const command = `set -o pipefail; ${[process.execPath, BIN, 'status', '--dir', dir].map(quote).join(' ')} | head -1`
      const run = await cli(['-c', command], { command: ['bash'], env: { DATABASE_URL: url } })
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.stdout.split('\n')).toHaveLength(2)
    })

    it('a reader that closed both streams before anything was written: exit 0, no crash', async () => {
      for (const args of [['status'], ['status', '--json'], ['--help'], ['status', '--bogus']]) {
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, [BIN, ...args, '--dir', join(ROOT, 'migrations')], {
            env: cliEnv({ DATABASE_URL: url }),
            stdio: ['ignore', 'pipe', 'pipe'],
          })
          child.stdout.destroy()
          child.stderr.destroy()
          child.on('exit', (c) => resolve(c))
        })
        // The usage error keeps its exit code; the others succeed.
        expect([args.join(' '), code]).toEqual([args.join(' '), args.includes('--bogus') ? 2 : 0])
      }
    })
  },
)

describe('command-line conventions', { timeout: 120_000 }, () => {
  it('--version and -v print the version from package.json, from any working directory', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    const elsewhere = await project({})
    for (const flag of ['--version', '-v']) {
      const run = await cli([flag], { cwd: elsewhere })
      expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
    }
    expect(jsonOf(await cli(['--version', '--json']))).toMatchObject({
      command: 'version',
      ok: true,
      packageVersion: version,
    })
    const withCommand = await cli(['status', '--version'])
    expect(withCommand.code).toBe(2)
    expect(withCommand.stderr).toMatch(/^error\[USAGE\]: --version takes no command \(got "status"\)\n/)
  })

  it.each([
    ['migrate', ['--url', '--embedded', '--allow-drift', '--lock-timeout', '--env-file'], ['--check', '--to']],
    ['status', ['--url', '--check', '--json', '--lock-timeout'], ['--to', '--allow-drift']],
    ['down', ['--to', '--url', '--lock-timeout'], ['--check']],
    ['create', ['--dir', '--json'], ['--url', '--check', '--to', '--embedded']],
    ['plan', ['--url', '--allow-drift', '--lock-timeout'], ['--check', '--to']],
    ['verify', ['--dir', '--roundtrip', '--shadow-url'], ['--check', '--to', '--allow-drift']],
    ['diff', ['--url', '--shadow-url', '--dir'], ['--check', '--to', '--allow-drift']],
  ])('%s --help (and help %s) prints its own flags and an example', async (command, has, hasNot) => {
    const run = await cli([command, '--help'])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).toMatch(new RegExp(`^Usage: wukong-migrate ${command}\\b`))
    for (const flag of has) expect(run.stdout).toContain(`  ${flag}`)
    for (const flag of hasNot) expect(run.stdout).not.toContain(`  ${flag}`)
    expect(run.stdout).toMatch(new RegExp(`\nExample:\n  wukong-migrate ${command}|DATABASE_URL=`))
    expect((await cli(['help', command])).stdout).toBe(run.stdout)
  })

  it.each([
    [['--frob'], 'unknown flag "--frob"'],
    [['status', '-x'], 'unknown flag "-x"'],
    [['status', '--url'], '--url needs a value, e.g. --url postgres://user@host:5432/db'],
    [['status', '--json=yes'], '--json takes no value (got "--json=yes")'],
    [['help', 'frob'], 'help takes one command name, got "frob"'],
  ])('%j: a usage error whose quotes are balanced', async (args, message) => {
    const run = await cli(args)
    expect(run.code).toBe(2)
    const first = run.stderr.split('\n')[0]!
    expect(first).toBe(`error[USAGE]: ${message}`)
    expect(first.split('"').length % 2).toBe(1)
    expect(first.split("'").length % 2).toBe(1)
  })
})

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

describe('.env files as editors write them, and URLs that are set but unusable', { timeout: 120_000 }, () => {
  it.each([
    [
      'a byte-order mark',
      '\uFEFFDATABASE_URL=postgres://a@h/x\nOTHER=1\n',
      { DATABASE_URL: 'postgres://a@h/x', OTHER: '1' },
    ],
    [
      'CRLF line endings',
      'DATABASE_URL=postgres://a@h/x\r\nOTHER=2\r\n',
      { DATABASE_URL: 'postgres://a@h/x', OTHER: '2' },
    ],
    [
      'a BOM, CRLF and export together',
      '\uFEFFexport DATABASE_URL=postgres://a@h/x\r\n',
      { DATABASE_URL: 'postgres://a@h/x' },
    ],
    [
      'export',
      'export POSTGRES_URL=postgres://a@h/p\n  export OTHER=3\n',
      { POSTGRES_URL: 'postgres://a@h/p', OTHER: '3' },
    ],
    [
      '# inside quotes',
      'DATABASE_URL="postgres://a:p#w@h/x" # the dev server\nS=\'a#b\'\n',
      { DATABASE_URL: 'postgres://a:p#w@h/x', S: 'a#b' },
    ],
    ['trailing comments', 'OTHER=4 # four\n# DATABASE_URL=postgres://commented@h/x\n', { OTHER: '4' }],
    ['empty values', 'OTHER=\nQUOTED=""\n', { OTHER: '', QUOTED: '' }],
  ])('%s', async (_, text, expected) => {
    const cwd = await project({ '.env': text })
    expect(loadEnvFiles({}, cwd, [])).toEqual(expected)
  })

  it.each([
    ['DATABASE_URL: postgres://a@h/x\n', '.env:1: this line does not set DATABASE_URL'],
    [
      'OTHER=1\r\nexport POSTGRES_URL_NON_POOLING postgres://a@h/x\r\n',
      '.env:2: this line does not set POSTGRES_URL_NON_POOLING',
    ],
  ])('%j: a line naming a URL variable that sets nothing is a usage error', async (text, message) => {
    const cwd = await project({ '.env': text })
    const run = await runCliHere(['status', '--dir', join(ROOT, 'migrations')], {}, cwd)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toMatch(/embedded PGlite/)
  })

  it.each([
    ['DATABASE_URL empty in the environment', {}, { DATABASE_URL: '' }, 'DATABASE_URL is set but empty'],
    ['POSTGRES_URL blank in the environment', {}, { POSTGRES_URL: '  ' }, 'POSTGRES_URL is set but empty'],
    ['DATABASE_URL= in .env', { '.env': 'DATABASE_URL=\n' }, {}, 'DATABASE_URL is set but empty'],
    [
      'two empty ones',
      { '.env': 'POSTGRES_URL=""\n' },
      { DATABASE_URL: '' },
      'POSTGRES_URL, DATABASE_URL are set but empty',
    ],
  ])('%s: NO_DATABASE_URL, never the embedded database', async (_, files, env, message) => {
    const cwd = await project(files)
    const dataDir = join(cwd, 'pglite')
    const run = await runCliHere(
      ['migrate', '--json', '--dir', join(ROOT, 'migrations')],
      { ...env, WUKONG_PGLITE_DIR: dataDir },
      cwd,
    )
    expect(run.code).toBe(1)
    const doc = jsonOf(run)
    expect(doc).toMatchObject({ ok: false, database: null, error: { code: 'NO_DATABASE_URL' } })
    expect((doc['error'] as { message: string }).message).toContain(message)
    expect(run.stderr).not.toMatch(/embedded PGlite/)
    expect(existsSync(dataDir)).toBe(false)
  })

  it('an empty URL variable is skipped when a later one has a value; the runner decides alike', async () => {
    const cwd = await project({ '.env': 'POSTGRES_URL_NON_POOLING=\n' })
    expect(await databaseOf([], cwd, { DATABASE_URL: nowhere('from_database_url') })).toMatchObject({
      source: 'DATABASE_URL',
    })
    const runner = new MigrationRunner({ env: { DATABASE_URL: '' }, migrationFolder: join(ROOT, 'migrations') })
    await expect(runner.status()).rejects.toMatchObject({ code: 'NO_DATABASE_URL' })
    await runner.close()
    const empty = new MigrationRunner({ url: '', env: {}, migrationFolder: join(ROOT, 'migrations') })
    await expect(empty.status()).rejects.toMatchObject({ code: 'NO_DATABASE_URL' })
    await empty.close()
  })
})
