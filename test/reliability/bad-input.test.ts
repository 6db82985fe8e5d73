// The bad-input corpus (test/fixtures/bad/, expectations in its manifest.json). Every case
// either fails with the expected code, names the file, gives the expected line:column (or, for
// a refusal that points at no place in a file's text, no line:column at all) and leaves the
// database exactly as it was (test/support/db-snapshot.ts: catalog, code and every table's rows),
// or applies (BOM, CRLF, CR, ignored non-.sql files, a 30 MB file) and creates what it should.
// This extends test/provider-files.test.ts (inline rejections of the reader): the corpus keeps
// its cases on disk and adds what needs a database, a second OS user, or other roles.
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, readlink, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'

import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'

import { MigrationError, MigrationRunner, readMigrationFolder } from '../../src/index.js'
import { resolveTestServer, withDatabase, type TestDatabaseHandle } from '../../src/testing/test-server.js'
import { snapshotDatabase } from '../support/db-snapshot.js'
import { startMigrateChild } from '../support/migrate-child-process.js'
import { osUser } from '../support/os-user.js'
import { freePort, startPrivateServer } from '../support/private-pg-server.js'
import { reproduceCommand, SOAK, writeScenarioResult, type CaseResult } from '../support/reliability-results.js'
import { TrialDatabases } from '../support/trial-databases.js'
import { needsServer } from '../support/needs-server.js'

const CORPUS = fileURLToPath(new URL('../fixtures/bad', import.meta.url))
const FILE = 'test/reliability/bad-input.test.ts'

interface Expectation {
  readonly code?: string
  readonly file?: string
  readonly at?: readonly [number, number]
  readonly says?: string
  readonly applies?: boolean
  readonly sameChecksumAs?: string
  readonly withinMs?: number
  /** Relations (schema-qualified) that must exist after a case that applies. */
  readonly creates?: readonly string[]
}

/** Codes that point into a file's text: a case refused with one of them must say where (`at`). */
const LOCATED = new Set([
  'INVALID_UTF8',
  'NUL_BYTE',
  'SQL_SYNTAX_ERROR',
  'TRANSACTION_CONTROL',
  'NON_TRANSACTIONAL_STATEMENT',
  'UNKNOWN_DIRECTIVE',
  'WRONG_LEDGER_VERSION',
  'LEDGER_WRITE',
  'MIGRATION_LOCK_RELEASE',
  'LIMIT_OVERRIDE',
  'MIGRATION_FAILED',
  'MISSING_EXTENSION',
  'PERMISSION_DENIED',
  'LOCK_TIMEOUT',
  'STATEMENT_TIMEOUT',
])

interface Case {
  readonly covers: string
  readonly setup?: string
  readonly folder?: string
  readonly path?: string
  readonly generate?:
    | 'directory-named-like-applied-file'
    | 'directory-named-like-new-file'
    | 'mode-000-as-unprivileged-user'
    | 'large-file'
  readonly database?:
    | 'closed-port'
    | 'missing-database'
    | 'wrong-password'
    | 'role-without-create'
    | 'role-without-ledger-access'
  readonly expect: Expectation
}

const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { cases: Record<string, Case> }
const server = await resolveTestServer()
/** Put in URLs of the connection cases, to check that no message shows it. */
const SECRET = 'wk-secret-pw-4711'
/** Rows of the generated 30 MB seed file. */
const LARGE_ROWS = 270_000

/** An error, whether thrown here or reported by a child process. */
interface Observed {
  readonly code?: string
  readonly file?: string
  readonly line?: number
  readonly column?: number
  readonly message: string
  readonly isMigrationError: boolean
}

describe.skipIf(needsServer(server, 'bad-input corpus'))('bad-input corpus', () => {
  const databases = new TrialDatabases(server)
  const rows: CaseResult[] = []
  const started = performance.now()
  afterAll(async () => {
    await databases.closeAll()
    const failures = rows.filter((r) => r.outcome === 'fail').length
    writeScenarioResult({
      id: 'bad-input-corpus',
      group: 'Bad-input corpus',
      scenario: `${rows.length} cases of test/fixtures/bad/manifest.json: error code, file, line:column (or none), database unchanged (catalog, code, rows)`,
      trials: rows.length,
      failures,
      outcome: failures === 0 ? 'pass' : 'fail',
      durationMs: Math.round(performance.now() - started),
      command: reproduceCommand(FILE, 'bad-input corpus'),
      soak: SOAK,
      recordedAt: new Date().toISOString(),
      notes: [
        `${rows.filter((r) => r.expected.startsWith('applies')).length} cases must apply (BOM, CRLF, CR, ignored non-.sql files, session-changing files, a 30 MB file); the rest must be refused with the database unchanged`,
        ...(rows.length < Object.keys(manifest.cases).length
          ? [`PARTIAL RUN: ${rows.length} of ${Object.keys(manifest.cases).length} cases`]
          : []),
      ],
      cases: rows,
    })
  })

  // "The database changed" is only as good as what the snapshot sees: each kind of change a
  // migration can make must show in it.
  it('the snapshot sees every kind of change a migration can make', async () => {
    const handle = await databases.create()
    try {
      await migrateOrThrow(handle, await assemble(undefined))
      const changes = [
        'create schema extra',
        'create function f() returns int language sql as $$ select 1 $$',
        'create or replace function f() returns int language sql as $$ select 2 $$',
        "create type mood as enum ('ok')",
        "alter type mood add value 'sad'",
        'create domain positive as int check (value > 0)',
        'create sequence s',
        "select nextval('s')",
        'create view v as select 1 as one',
        'create or replace view v as select 2 as one',
        'create function trg() returns trigger language plpgsql as $$ begin return new; end $$',
        'create trigger t before insert on baseline for each row execute function trg()',
        'alter table baseline disable trigger t',
        'create extension if not exists pg_trgm',
        'insert into baseline values (1)',
        'update baseline set id = 2',
        "comment on table baseline is 'c'",
        'create index baseline_id on baseline (id)',
        'alter table baseline alter column id set default 5',
        "alter database current set work_mem = '8MB'".replace(
          'current',
          `"${(await sql<{ d: string }>`select current_database() as d`.execute(handle.db)).rows[0]!.d}"`,
        ),
        'create policy p on baseline using (true)',
        'create rule r as on delete to baseline do instead nothing',
        'grant select on baseline to public',
      ]
      for (const change of changes) {
        const before = await snapshotDatabase(handle.db)
        await sql.raw(change).execute(handle.db)
        expect(await snapshotDatabase(handle.db), change).not.toBe(before)
      }
    } finally {
      databases.release(handle)
    }
  })

  it('every refusal that points into a file names its line:column in the manifest', () => {
    const missing = Object.entries(manifest.cases)
      .filter(([, c]) => c.expect.code && LOCATED.has(c.expect.code) && c.expect.file && !c.expect.at)
      .map(([name]) => name)
    expect(missing).toEqual([])
  })

  for (const [name, c] of Object.entries(manifest.cases)) {
    it(name, { timeout: 180_000 }, async () => {
      const t0 = performance.now()
      const expected = describeExpectation(c.expect)
      let observed = 'did not finish'
      try {
        observed = await runCase(name, c)
        rows.push({
          name,
          covers: c.covers,
          expected,
          observed,
          outcome: 'pass',
          ms: Math.round(performance.now() - t0),
        })
      } catch (error) {
        rows.push({
          name,
          covers: c.covers,
          expected,
          observed: `${observed}; ${(error as Error).message.split('\n')[0]}`,
          outcome: 'fail',
          ms: Math.round(performance.now() - t0),
        })
        throw error
      }
    })
  }

  // Cases that only have to be refused share one database (each takes its own snapshot before
  // and after); cases that change it (setup, applies, roles) get a fresh one.
  let shared: Promise<TestDatabaseHandle> | undefined
  const sharedDatabase = () =>
    (shared ??= databases.create().then(async (handle) => {
      await migrateOrThrow(handle, await assemble(undefined))
      return handle
    }))

  async function runCase(name: string, c: Case): Promise<string> {
    const caseDir = join(CORPUS, name)
    const own = c.setup !== undefined || c.expect.applies === true || c.database !== undefined
    const handle = own ? await databases.create() : await sharedDatabase()
    try {
      // The ledgers exist (the baseline is applied, plus `setup`), so that "unchanged" is exact.
      if (own) await migrateOrThrow(handle, await assemble(c.setup ? join(caseDir, c.setup) : undefined))
      const folder = c.path
        ? join(caseDir, c.path)
        : c.generate === 'large-file'
          ? await assembleLarge()
          : await assemble(join(caseDir, c.folder ?? ''))
      if (c.generate === 'directory-named-like-applied-file') await mkdir(join(folder, '001_create_users.sql'))
      if (c.generate === 'directory-named-like-new-file') await mkdir(join(folder, '002_create_teams.sql'))
      // The case's role and its grants are part of the database the migration meets.
      const role =
        c.database === 'role-without-create' || c.database === 'role-without-ledger-access'
          ? await createRole(handle, c.database)
          : undefined
      const before = await snapshotDatabase(handle.db)

      const t0 = performance.now()
      const { observed, cleanup } = await attempt(name, c, handle, folder, role)
      const ms = performance.now() - t0
      try {
        const e = c.expect
        if (e.applies) {
          expect(observed, observed?.message).toBeUndefined()
          if (e.withinMs !== undefined) expect(ms).toBeLessThan(e.withinMs)
          await expectApplied(name, c, handle, folder)
          return `applied in ${ms.toFixed(0)} ms`
        }
        expect(observed, 'it applied, but should have been refused').toBeDefined()
        const o = observed!
        expect(o.isMigrationError, o.message).toBe(true)
        expect(o.code, o.message).toBe(e.code)
        if (e.file) {
          expect(o.file).toBe(e.file)
          expect(o.message).toContain(e.file)
        }
        if (e.at) {
          expect([o.line, o.column], o.message).toEqual(e.at)
          expect(o.message).toContain(`${e.file}:${e.at[0]}:${e.at[1]}`)
        } else {
          // No place in a file's text: the error must not claim one either.
          expect([o.line ?? null, o.column ?? null], o.message).toEqual([null, null])
        }
        if (e.says) expect(o.message).toMatch(new RegExp(e.says))
        expect(o.message).not.toContain(SECRET)
        expect(ms, 'refusing took too long').toBeLessThan(e.withinMs ?? 15_000)
        expect(await snapshotDatabase(handle.db), 'the database changed').toBe(before)
        return `${o.code}: ${o.message.split('\n')[0]!.slice(0, 300)}`
      } finally {
        await cleanup()
      }
    } finally {
      if (own) databases.release(handle)
    }
  }

  /** Runs the case's migration the way its `database`/`generate` says; returns the error, if any. */
  async function createRole(
    handle: TestDatabaseHandle,
    kind: 'role-without-create' | 'role-without-ledger-access',
  ): Promise<string> {
    const role = `wk_role_${randomBytes(4).toString('hex')}`
    await sql.raw(`create role ${role} login`).execute(handle.db)
    if (kind === 'role-without-create') {
      // An app role: it may use the ledgers (and take the lock), not create anything.
      await sql
        .raw(
          `grant select, insert, update, delete on schema_versions, kysely_migration, kysely_migration_lock to ${role}`,
        )
        .execute(handle.db)
    }
    return role
  }

  async function attempt(
    _name: string,
    c: Case,
    handle: TestDatabaseHandle,
    folder: string,
    role?: string,
  ): Promise<{ observed: Observed | undefined; cleanup: () => Promise<void> }> {
    const none = async () => {}
    switch (c.database) {
      case undefined:
        break
      case 'closed-port':
        return {
          observed: await viaRunner(
            { url: `postgres://postgres:${SECRET}@127.0.0.1:${await freePort()}/wukong` },
            folder,
          ),
          cleanup: none,
        }
      case 'missing-database': {
        const url = withDatabase(server.adminUrl!, `wk_missing_${randomBytes(4).toString('hex')}`).replace(
          'postgres@',
          `postgres:${SECRET}@`,
        )
        return { observed: await viaRunner({ url }, folder), cleanup: none }
      }
      case 'wrong-password': {
        const right = 'wk-right-pw-0815'
        const privateServer = await startPrivateServer(right)
        try {
          const observed = await viaRunner({ url: privateServer.url(SECRET) }, folder)
          // The same folder applies with the right password: the failure was the password alone.
          const ok = new MigrationRunner({ url: privateServer.url(right), migrationFolder: folder, log: () => {} })
          await ok.migrate().finally(() => ok.close())
          return { observed, cleanup: () => privateServer.stop() }
        } catch (error) {
          await privateServer.stop()
          throw error
        }
      }
      case 'role-without-create':
      case 'role-without-ledger-access': {
        const url = new URL(handle.url!)
        url.username = role!
        const observed = await viaRunner({ url: url.toString() }, folder)
        return {
          observed,
          cleanup: async () => {
            await sql.raw(`drop owned by ${role}`).execute(handle.db)
            await sql.raw(`drop role ${role}`).execute(handle.db)
          },
        }
      }
    }
    if (c.generate === 'mode-000-as-unprivileged-user')
      return { observed: await unreadable(handle, folder), cleanup: none }
    return { observed: await viaRunner({ db: handle.db }, folder), cleanup: none }
  }

  /**
   * A file the migrating user may not read. The suite runs as root, for whom mode 000 means
   * nothing, so the migration runs in a child process that switches to the `nobody` OS user
   * (setuid) before reading the folder: the kernel then refuses the read for real (EACCES).
   */
  async function unreadable(handle: TestDatabaseHandle, folder: string): Promise<Observed | undefined> {
    await chmod(folder, 0o755)
    for (const entry of await readdir(folder)) await chmod(join(folder, entry), 0o644)
    await chmod(join(folder, '002_create_teams.sql'), 0o000)
    if (process.getuid?.() !== 0) return viaRunner({ db: handle.db }, folder)
    const child = await startMigrateChild({ url: handle.url!, folder, runAs: osUser('nobody') }, { timeoutMs: 60_000 })
    const exit = await child.exited
    const last = exit.events.at(-1)
    if (last?.event === 'done') return undefined
    if (last?.event !== 'failed')
      throw new Error(`the child ended without a result (${exit.code ?? exit.signal}): ${exit.stderr.slice(-1000)}`)
    return {
      code: last.code,
      file: last.file,
      line: last.line,
      column: last.column,
      message: last.message,
      isMigrationError: exit.code === 1,
    }
  }
})

async function viaRunner(
  target: { url?: string; db?: TestDatabaseHandle['db'] },
  folder: string,
): Promise<Observed | undefined> {
  const runner = new MigrationRunner({ ...target, migrationFolder: folder, log: () => {} })
  try {
    await runner.migrate()
    return undefined
  } catch (error) {
    const e = error as MigrationError
    return {
      code: e.code,
      file: e.file,
      line: e.line,
      column: e.column,
      message: e.message ?? String(error),
      isMigrationError: error instanceof MigrationError,
    }
  } finally {
    await runner.close()
  }
}

async function migrateOrThrow(handle: TestDatabaseHandle, folder: string): Promise<void> {
  await new MigrationRunner({ db: handle.db, migrationFolder: folder, log: () => {} }).migrate()
}

/**
 * A temp folder with the baseline and the case's files. Symbolic links are recreated with
 * absolute targets, so a link keeps pointing where it pointed in the corpus (outside the
 * folder, or nowhere).
 */
async function assemble(from: string | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-bad-'))
  await copyFile(join(CORPUS, '_baseline', '000_baseline.sql'), join(dir, '000_baseline.sql'))
  if (!from) return dir
  for (const entry of await readdir(from)) {
    const source = join(from, entry)
    const stat = await lstat(source)
    if (stat.isSymbolicLink()) {
      const target = await readlink(source)
      await symlink(isAbsolute(target) ? target : resolve(dirname(source), target), join(dir, entry))
    } else if (stat.isFile()) {
      await copyFile(source, join(dir, entry))
    }
  }
  return dir
}

/** The baseline and a generated 30 MB seed file: one INSERT of LARGE_ROWS rows. */
async function assembleLarge(): Promise<string> {
  const dir = await assemble(undefined)
  const parts = [
    'create table seed (id int primary key, payload text not null);\ninsert into seed (id, payload) values\n',
  ]
  const payload = 'x'.repeat(100)
  for (let i = 1; i <= LARGE_ROWS; i++) parts.push(`(${i}, '${payload}')${i === LARGE_ROWS ? ';' : ','}\n`)
  await writeFile(join(dir, '001_seed.sql'), parts.join(''))
  return dir
}

async function expectApplied(name: string, c: Case, handle: TestDatabaseHandle, folder: string): Promise<void> {
  const { rows } = await sql<{
    version: number
    checksum: string
  }>`select version, checksum from schema_versions where version > 0 order by version`.execute(handle.db)
  const files = (await readMigrationFolder(folder)).filter((f) => f.version > 0)
  expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version))
  expect(rows.map((r) => r.checksum)).toEqual(files.map((f) => f.checksum))
  if (c.expect.sameChecksumAs) {
    const reference = await readMigrationFolder(join(CORPUS, c.expect.sameChecksumAs))
    expect(
      rows.map((r) => r.checksum),
      `${name} and ${c.expect.sameChecksumAs} differ`,
    ).toEqual(reference.map((f) => f.checksum))
  }
  for (const relation of c.expect.creates ?? []) {
    const { rows: found } = await sql<{ e: boolean }>`select to_regclass(${relation}) is not null as e`.execute(
      handle.db,
    )
    expect(found[0]!.e, `${name}: ${relation} does not exist`).toBe(true)
  }
  if (c.generate === 'large-file') {
    const count = await sql<{ n: number }>`select count(*)::int as n from seed`.execute(handle.db)
    expect(count.rows[0]!.n).toBe(LARGE_ROWS)
  }
}

function describeExpectation(e: Expectation): string {
  if (e.applies)
    return `applies${e.sameChecksumAs ? ` (checksum of ${e.sameChecksumAs})` : ''}${e.creates ? `, creating ${e.creates.join(', ')}` : ''}${e.withinMs ? ` within ${e.withinMs / 1000} s` : ''}`
  return `${e.code}${e.file ? ` naming ${e.file}` : ''}${e.at ? ` at ${e.at[0]}:${e.at[1]}` : ' with no line:column'}`
}
