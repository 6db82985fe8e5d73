import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const PG_BIN = '/usr/lib/postgresql/15/bin'

/** A throwaway PostgreSQL server that checks passwords (scram-sha-256), unlike the trusting test server. */
export interface PasswordServer {
  /** A URL for user `postgres` with the given password. */
  url(password: string): string
  stop(): Promise<void>
}

/**
 * Why a password-checking server cannot be started here, or undefined when it can: it needs
 * PostgreSQL's binaries, and to run them as `postgres` when this process is root (initdb
 * refuses root).
 */
export function passwordServerSkipReason(): string | undefined {
  if (!existsSync(join(PG_BIN, 'initdb'))) return `no ${PG_BIN}/initdb: cannot start a server that checks passwords`
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser'))
    return 'root without runuser'
  return undefined
}

/**
 * Starts a server with scram-sha-256 authentication on a free loopback port (about 3 s), so a
 * wrong password is refused by PostgreSQL itself, with SQLSTATE 28P01.
 *
 * @example
 * ```ts
 * const server = await startPasswordServer('right-password')
 * await cli(['status', '--url', server.url('wrong-password')])
 * await server.stop()
 * ```
 */
export async function startPasswordServer(password: string): Promise<PasswordServer> {
  const root = await mkdtemp(join(tmpdir(), 'wk-cli-auth-'))
  const data = join(root, 'data')
  const pwfile = join(root, 'pw')
  await writeFile(pwfile, `${password}\n`)
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const [uid, gid] = [Number(stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim())]
    await chown(root, uid, gid)
    await chown(pwfile, uid, gid)
  }
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
  await as(join(PG_BIN, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(root, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} -c fsync=off`,
    'start',
  ])
  return {
    url: (pw) => `postgres://postgres:${encodeURIComponent(pw)}@127.0.0.1:${port}/postgres`,
    async stop() {
      await as(join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      await rm(root, { recursive: true, force: true })
    },
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
