import { execFile } from 'node:child_process'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { osUser } from './os-user.js'

const run = promisify(execFile)
const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin'

/** A throwaway PostgreSQL server of the test's own, on a loopback port. */
export interface PrivateServer {
  readonly port: number
  /** URL of its `postgres` database as `postgres`, with the given password. */
  url(password: string): string
  stop(): Promise<void>
}

/**
 * Starts a private PostgreSQL server that demands a password (scram-sha-256): the shared test
 * server trusts every loopback connection, so only a server of our own can refuse a wrong
 * password for real. About 1.5 s (initdb without fsync). As root, initdb and the server run as
 * the `postgres` OS user (initdb refuses root), as scripts/pg-server.sh does. With `tls`
 * (PEM texts), the server also offers TLS (`ssl=on`) with that certificate and key; `hba`
 * lines go first in its pg_hba.conf.
 */
export async function startPrivateServer(
  password: string,
  options: { tls?: { cert: string; key: string }; hba?: readonly string[] } = {},
): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-private-pg-'))
  const data = join(dir, 'data')
  const pwfile = join(dir, 'pw')
  await writeFile(pwfile, `${password}\n`)
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const pg = osUser('postgres')
    await chown(dir, pg.uid, pg.gid)
    await chown(pwfile, pg.uid, pg.gid)
  }
  let tlsSettings = ''
  if (options.tls) {
    // The server refuses a key file that others can read, or that it does not own.
    await writeFile(join(dir, 'server.crt'), options.tls.cert)
    await writeFile(join(dir, 'server.key'), options.tls.key, { mode: 0o600 })
    if (asRoot) {
      const pg = osUser('postgres')
      for (const f of ['server.crt', 'server.key']) await chown(join(dir, f), pg.uid, pg.gid)
    }
    tlsSettings = ` -c ssl=on -c ssl_cert_file=${join(dir, 'server.crt')} -c ssl_key_file=${join(dir, 'server.key')}`
  }
  await chmod(dir, 0o700)
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args)
  const port = await freePort()
  await as(join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-A',
    'scram-sha-256',
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    '--no-sync',
    '-E',
    'UTF8',
  ])
  if (options.hba) {
    const hba = join(data, 'pg_hba.conf')
    await writeFile(hba, `${options.hba.join('\n')}\n${await readFile(hba, 'utf8')}`)
  }
  await as(join(PG_BIN, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    'start',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c shared_buffers=16MB -c max_connections=20${tlsSettings}`,
  ])
  return {
    port,
    url: (pw) => `postgres://postgres:${encodeURIComponent(pw)}@127.0.0.1:${port}/postgres`,
    async stop() {
      await as(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A loopback port nothing listens on (just freed). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
