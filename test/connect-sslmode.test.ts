// Every libpq sslmode against a server that offers TLS (a private cluster with ssl=on and a
// self-signed certificate for `localhost`, where the role tls_only may connect over TLS only)
// and one that has none (the shared test server): the outcome psql would have, and not one
// third-party warning on the way.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createDatabase } from '../src/connect/index.js'
import { resolveTestServer } from '../src/testing/test-server.js'
import { cli, ROOT } from './support/cli-process.js'
import { migrationFolder } from './support/folders.js'
import { startPrivateServer, type PrivateServer } from './support/private-pg-server.js'

const server = await resolveTestServer()
if (server.skipReason) console.warn(`[connect-sslmode.test] skipped: ${server.skipReason}`)

const PASSWORD = 'tls-test-pw'

/** 'tls' or 'plain' for the session a URL opens, else the error's message. */
async function outcome(url: string): Promise<string> {
  const db = await createDatabase({ url, max: 1, connectTimeoutMs: 20_000 })
  try {
    const { rows } = await sql<{ ssl: boolean }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(db)
    return rows[0]?.ssl ? 'tls' : 'plain'
  } catch (error) {
    return (error as Error).message
  } finally {
    await db.destroy()
  }
}

function withParams(url: string, params: Record<string, string>, host?: string): string {
  const u = new URL(url)
  if (host) u.hostname = host
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v)
  return u.toString()
}

describe.skipIf(server.skipReason)('sslmode as libpq means it', () => {
  let dir: string
  let tls: PrivateServer
  let rootCert: string
  let plainUrl: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-sslmode-'))
    // One self-signed certificate, its own root: for localhost only.
    const args = '-x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost'
    execFileSync('openssl', ['req', ...args.split(' '), '-keyout', 'server.key', '-out', 'server.crt'], {
      cwd: dir,
      stdio: 'ignore',
      timeout: 20_000,
    })
    rootCert = join(dir, 'server.crt')
    tls = await startPrivateServer(PASSWORD, {
      tls: { cert: await readFile(rootCert, 'utf8'), key: await readFile(join(dir, 'server.key'), 'utf8') },
      hba: ['hostnossl all tls_only 127.0.0.1/32 reject'],
    })
    const admin = await createDatabase({ url: tls.url(PASSWORD), max: 1 })
    try {
      await sql.raw(`create role tls_only login password '${PASSWORD}'`).execute(admin)
    } finally {
      await admin.destroy()
    }
    plainUrl = server.adminUrl!
  }, 120_000)
  afterAll(async () => {
    await tls?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('the shared server has no TLS, the private one has', async () => {
    expect(await outcome(withParams(plainUrl, { sslmode: 'disable' }))).toBe('plain')
    const db = await createDatabase({ url: plainUrl, max: 1 })
    try {
      const { rows } = await sql<{ ssl: string }>`select current_setting('ssl') as ssl`.execute(db)
      expect(rows[0]?.ssl).toBe('off')
    } finally {
      await db.destroy()
    }
  })

  /** The TLS server's URL for the role that pg_hba.conf lets in over TLS only. */
  const tlsOnly = (params: Record<string, string>): string => {
    const u = new URL(withParams(tls.url(PASSWORD), params))
    u.username = 'tls_only'
    return u.toString()
  }

  it('disable and allow: plaintext on both servers', async () => {
    for (const sslmode of ['disable', 'allow']) {
      expect(await outcome(withParams(tls.url(PASSWORD), { sslmode })), sslmode).toBe('plain')
      expect(await outcome(withParams(plainUrl, { sslmode })), sslmode).toBe('plain')
    }
  })

  it('allow: TLS on a second try when the server refuses plaintext; disable: refused', async () => {
    expect(await outcome(tlsOnly({ sslmode: 'allow' }))).toBe('tls')
    expect(await outcome(tlsOnly({ sslmode: 'disable' }))).toMatch(/pg_hba\.conf rejects connection.*no encryption/)
    expect(await outcome(tlsOnly({ sslmode: 'prefer' }))).toBe('tls')
    // A refusal that TLS does not cure is still the error, once.
    const wrong = new URL(tlsOnly({ sslmode: 'allow' }))
    wrong.password = 'not-the-password'
    expect(await outcome(wrong.toString())).toMatch(/password authentication failed/)
  })

  it('prefer: TLS where the server has it, plaintext where it has none (as psql)', async () => {
    expect(await outcome(withParams(tls.url(PASSWORD), { sslmode: 'prefer' }))).toBe('tls')
    expect(await outcome(withParams(plainUrl, { sslmode: 'prefer' }))).toBe('plain')
  })

  it('require: TLS without checking the self-signed certificate; refused by a server without TLS', async () => {
    expect(await outcome(withParams(tls.url(PASSWORD), { sslmode: 'require' }))).toBe('tls')
    expect(await outcome(withParams(tls.url(PASSWORD), { sslmode: 'require', channel_binding: 'require' }))).toBe('tls')
    expect(await outcome(withParams(plainUrl, { sslmode: 'require' }))).toMatch(/does not support SSL/)
  })

  it('verify-ca: the certificate must lead to sslrootcert; any host name', async () => {
    expect(await outcome(withParams(tls.url(PASSWORD), { sslmode: 'verify-ca' }))).toMatch(
      /self[- ]signed|unable to (get|verify)/i,
    )
    expect(await outcome(withParams(tls.url(PASSWORD), { sslmode: 'verify-ca', sslrootcert: rootCert }))).toBe('tls')
    expect(await outcome(withParams(plainUrl, { sslmode: 'verify-ca', sslrootcert: rootCert }))).toMatch(
      /does not support SSL/,
    )
  })

  it('verify-full: the chain and the host name (the certificate names localhost, not 127.0.0.1)', async () => {
    const params = { sslmode: 'verify-full', sslrootcert: rootCert }
    expect(await outcome(withParams(tls.url(PASSWORD), params))).toMatch(/altnames|does not match|Hostname\/IP/i)
    expect(await outcome(withParams(tls.url(PASSWORD), params, 'localhost'))).toBe('tls')
    expect(await outcome(withParams(plainUrl, params))).toMatch(/does not support SSL/)
  })

  it('the command line with sslmode=require&channel_binding=require prints no SECURITY WARNING', async () => {
    const url = withParams(tls.url(PASSWORD), { sslmode: 'require', channel_binding: 'require' })
    const dir = await migrationFolder({ '001_a.sql': 'create table a (id int);\n' })
    const run = await cli(['status', '--url', url, '--dir', dir], {
      command: [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/migrate.ts')],
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout + run.stderr).toContain('001_a.sql')
    expect(run.stderr).not.toMatch(/SECURITY WARNING|Warning:/)
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
  })
})
