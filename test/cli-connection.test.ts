import { randomBytes } from 'node:crypto'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { quoteIdent } from '../src/provider/sql-text.js'
import {
  connectClient,
  resolveTestServer,
  withDatabase,
  type TestDatabaseHandle,
  type TestServer,
} from '../src/testing/test-server.js'
import { cli, folderWith, jsonOf, type CliRun } from './support/cli-process.js'
import {
  freePort,
  passwordServerSkipReason,
  startPasswordServer,
  type PasswordServer,
} from './support/cli-password-server.js'
import { needsServer } from './support/needs-server.js'

// Connection failures name the setting that chose the database, and no output of any run
// (stdout, stderr, JSON) ever contains the URL's password, in any of its spellings.
const FOLDER = { '001_a.sql': 'create table a (id int);\n' }

function expectNoSecret(runs: readonly CliRun[], password: string): void {
  const forms = new Set([
    password,
    encodeURIComponent(password),
    ...password.split(/[@:/%]/).filter((p) => p.length >= 3),
  ])
  for (const run of runs) {
    for (const form of forms) {
      expect(run.stdout, `stdout contains "${form}"`).not.toContain(form)
      expect(run.stderr, `stderr contains "${form}"`).not.toContain(form)
    }
  }
}

describe('wukong-migrate: connection failures', { timeout: 240_000 }, () => {
  it('an unreachable host: exit 1, the URL variable named, the password redacted everywhere', async () => {
    const dir = await folderWith(FOLDER)
    const port = await freePort()
    // An unencoded @ and : in the password: the naive URL pattern would stop at the first @.
    const password = 'Zq9@Kv7:Lm3-unreachable'
    const url = `postgres://wk_pw:${password}@127.0.0.1:${port}/wukong`
    const encoded = `postgres://wk_pw:${encodeURIComponent(password)}@127.0.0.1:${port}/wukong`
    // Independent runs (nothing listens there), so at once.
    const runs = await Promise.all([
      cli(['migrate', '--dir', dir], { env: { POSTGRES_URL: encoded } }),
      cli(['status', '--json', '--dir', dir], { env: { POSTGRES_URL_NON_POOLING: url } }),
      cli(['plan', '--dir', dir, '--url', encoded]),
      cli(['down', '--json', '--dir', dir, '--url', url]),
    ])
    for (const run of runs) expect(run.code).toBe(1)
    expect(runs[0]!.stderr).toContain(
      `error[CONNECTION_FAILED]: cannot connect to the database from POSTGRES_URL (postgres://wk_pw:***@127.0.0.1:${port}/wukong): connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    expect(runs[0]!.stderr).toContain(
      '= help: nothing accepts connections at that host and port: is the server running? check POSTGRES_URL, or pass --url',
    )
    expect(runs[2]!.stderr).toContain('from --url (postgres://wk_pw:***@')
    const status = jsonOf(runs[1]!)
    expect(status).toMatchObject({
      version: 1,
      ok: false,
      exitCode: 1,
      database: {
        source: 'POSTGRES_URL_NON_POOLING',
        url: `postgres://wk_pw:***@127.0.0.1:${port}/wukong`,
        dataDir: null,
      },
      error: { code: 'CONNECTION_FAILED' },
    })
    expect((status['error'] as { message: string }).message).toMatch(
      /^cannot connect to the database from POSTGRES_URL_NON_POOLING \(postgres:\/\/wk_pw:\*\*\*@127\.0\.0\.1:\d+\/wukong\): connect ECONNREFUSED/,
    )
    expect(jsonOf(runs[3]!)).toMatchObject({
      command: 'down',
      ok: false,
      results: [],
      error: { code: 'CONNECTION_FAILED' },
    })
    expectNoSecret(runs, password)
  })

  it('a URL that is not a URL is a connection error naming its variable, not a crash', async () => {
    const dir = await folderWith(FOLDER)
    const run = await cli(['status', '--dir', dir], { env: { POSTGRES_URL: 'postgres://wk_pw:Nd8-not-a-url@[bad' } })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error\[CONNECTION_FAILED\]: cannot connect to the database from POSTGRES_URL/)
    expectNoSecret([run], 'Nd8-not-a-url')
  })
})

const server: TestServer = await resolveTestServer()

describe.skipIf(needsServer(server, 'wukong-migrate: a URL with a password on the test server'))(
  'wukong-migrate: a URL with a password on the test server',
  { timeout: 240_000 },
  () => {
    const role = `wk_pw_${randomBytes(4).toString('hex')}`
    const password = `Pw-${randomBytes(6).toString('hex')}`
    let handle: TestDatabaseHandle
    beforeAll(async () => {
      handle = await server.createDatabase()
      await sql
        .raw(
          `create role ${quoteIdent(role)} login password '${password}'; grant all on schema public to ${quoteIdent(role)}; alter database ${quoteIdent(handle.name)} owner to ${quoteIdent(role)}`,
        )
        .execute(handle.db)
    })
    afterAll(async () => {
      await handle?.destroy()
      const admin = await connectClient(server.adminUrl!)
      await admin.query(`drop role if exists ${quoteIdent(role)}`).finally(() => admin.end())
    })

    it('successful runs print the database, never its password', async () => {
      const dir = await folderWith({ ...FOLDER, '002_b.sql': 'select * from nowhere;\n' })
      const u = new URL(withDatabase(server.adminUrl!, handle.name))
      u.username = role
      u.password = password
      const url = u.toString()
      const runs = [
        // status and plan change nothing, so at once; then the runs that migrate, in order.
        ...(await Promise.all([
          cli(['status', '--dir', dir], { env: { POSTGRES_URL: url } }),
          cli(['plan', '--json', '--dir', dir], { env: { POSTGRES_URL: url } }),
        ])),
        await cli(['migrate', '--dir', dir], { env: { POSTGRES_URL: url } }),
        await cli(['migrate', '--json', '--dir', dir, '--url', url]),
        await cli(['status', '--json', '--dir', dir, '--url', url]),
      ]
      expect(runs.map((r) => r.code)).toEqual([0, 0, 1, 1, 0])
      expect(runs[0]!.stdout).toContain(`Database: postgres://${role}:***@`)
      expect(jsonOf(runs[4]!)).toMatchObject({
        database: { source: '--url', url: expect.stringContaining(`${role}:***@`) },
        currentVersion: 1,
      })
      expectNoSecret(runs, password)
    })
  },
)

const skipAuth = passwordServerSkipReason() ?? server.skipReason

describe.skipIf(skipAuth)(
  'wukong-migrate: a wrong password, refused by PostgreSQL itself',
  { timeout: 240_000 },
  () => {
    const right = `Right-${randomBytes(6).toString('hex')}`
    let auth: PasswordServer
    beforeAll(async () => {
      auth = await startPasswordServer(right)
    })
    afterAll(() => auth?.stop())

    it("exit 1, the variable named, the server's refusal shown, no password printed (the wrong one or any other)", async () => {
      const dir = await folderWith(FOLDER)
      const wrong = `Wr0ng@Qx7v:${randomBytes(4).toString('hex')}`
      const runs = await Promise.all([
        cli(['migrate', '--dir', dir], {
          env: { POSTGRES_URL_NON_POOLING: auth.url(wrong), POSTGRES_URL: auth.url(right) },
        }),
        cli(['status', '--json', '--dir', dir], { env: { POSTGRES_PRISMA_URL: auth.url(wrong) } }),
      ])
      for (const run of runs) expect(run.code).toBe(1)
      expect(runs[0]!.stderr).toMatch(
        /^error\[CONNECTION_FAILED\]: cannot connect to the database from POSTGRES_URL_NON_POOLING \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\): password authentication failed for user "postgres"$/m,
      )
      expect(runs[0]!.stderr).toContain(
        '= help: the server refused the user or password; check POSTGRES_URL_NON_POOLING, or pass --url',
      )
      expect(jsonOf(runs[1]!)).toMatchObject({
        ok: false,
        database: { source: 'POSTGRES_PRISMA_URL' },
        error: { code: 'CONNECTION_FAILED', advice: expect.stringContaining('refused the user or password') },
      })
      expectNoSecret(runs, wrong)
      expectNoSecret(runs, right)

      // And the right password works, through the same server.
      const ok = await cli(['migrate', '--dir', dir], { env: { POSTGRES_URL: auth.url(right) } })
      expect(ok.code).toBe(0)
      expectNoSecret([ok], right)
    })
  },
)
