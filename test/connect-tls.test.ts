// sslmode as libpq means it, against a live TLS endpoint: a PgBouncer that requires TLS from
// its clients, with a certificate from a throwaway CA, issued for a name that is not 127.0.0.1.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createDatabase, type TlsSettings } from '../src/connect/index.js'
import { resolveTestServer, serverRequired } from '../src/testing/test-server.js'
import { pgBouncerSkipReason, startPgBouncer, type PgBouncer } from './support/pgbouncer.js'

const server = await resolveTestServer()
const skipReason =
  server.skipReason ??
  (serverRequired()
    ? undefined
    : (pgBouncerSkipReason() ?? (existsSync('/usr/bin/openssl') ? undefined : 'openssl is not installed')))
if (skipReason) console.warn(`[connect-tls.test] skipped: ${skipReason}`)

const CERT_NAME = 'db.wukong.test'

/** A CA and a server certificate for CERT_NAME only, signed by it. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20_000 })
  }
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Wukong test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${CERT_NAME}`,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  )
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:${CERT_NAME}\\n' > san.ext`], { cwd: dir })
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  )
}

describe.skipIf(skipReason)('TLS settings reach the wire', () => {
  let dir: string
  let bouncer: PgBouncer
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-tls-'))
    makeCertificates(dir)
    // PgBouncer runs as the postgres user: it must read the key (a throwaway one).
    await chmod(dir, 0o755)
    for (const f of ['server.key', 'server.pem', 'ca.pem']) await chmod(join(dir, f), 0o644)
    bouncer = await startPgBouncer({
      serverUrl: server.adminUrl!,
      poolMode: 'session',
      settings: {
        client_tls_sslmode: 'require',
        client_tls_key_file: join(dir, 'server.key'),
        client_tls_cert_file: join(dir, 'server.pem'),
      },
    })
  })
  afterAll(async () => {
    await bouncer?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function connects(params: Record<string, string>, ssl?: TlsSettings): Promise<true | string> {
    const db = await createDatabase({ url: bouncer.url('postgres', params), ssl, max: 1 })
    try {
      await sql`select 1`.execute(db)
      return true
    } catch (error) {
      return (error as Error).message
    } finally {
      await db.destroy()
    }
  }

  it('disable: refused by a server that requires TLS', async () => {
    expect(await connects({ sslmode: 'disable' })).toMatch(/SSL required/)
  })

  it('require: encrypts without checking the certificate (libpq), unlike pg where require means verify-full', async () => {
    expect(await connects({ sslmode: 'require' })).toBe(true)
  })

  it('verify-full: refuses an unknown CA, and a known CA whose certificate names another host', async () => {
    expect(await connects({ sslmode: 'verify-full' })).toMatch(/self[- ]signed|unable to (get|verify)/i)
    expect(await connects({ sslmode: 'verify-full', sslrootcert: join(dir, 'ca.pem') })).toMatch(
      /altnames|does not match|Hostname\/IP/i,
    )
  })

  it('verify-ca: accepts the known CA for any host name; require with sslrootcert behaves the same', async () => {
    expect(await connects({ sslmode: 'verify-ca', sslrootcert: join(dir, 'ca.pem') })).toBe(true)
    expect(await connects({ sslmode: 'require', sslrootcert: join(dir, 'ca.pem') })).toBe(true)
  })

  it('explicit TLS options merge over the URL: servername makes verify-full pass; ssl: false turns TLS off', async () => {
    expect(
      await connects({ sslmode: 'verify-full', sslrootcert: join(dir, 'ca.pem') }, { servername: CERT_NAME }),
    ).toBe(true)
    expect(await connects({ sslmode: 'require' }, false)).toMatch(/SSL required/)
  })
})
