// A private PgBouncer for tests: its own config, log and pid files in a temporary folder,
// transaction pool mode, a free loopback port, started and stopped by the test that needs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { connectClient } from '../../src/testing/test-server.js'

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer'

/** Options of {@link startPgBouncer}. */
export interface PgBouncerOptions {
  /** Admin URL of the real server; PgBouncer forwards every database name to it. */
  readonly serverUrl: string
  readonly poolMode?: 'transaction' | 'session'
  /** Server connections per database/user pair. Default 5. */
  readonly poolSize?: number
  /** Extra `[pgbouncer]` settings, e.g. `{ client_tls_sslmode: 'require' }`. */
  readonly settings?: Readonly<Record<string, string | number>>
}

/** A running PgBouncer. */
export interface PgBouncer {
  readonly port: number
  /** The URL of `database` through PgBouncer (same user as the server URL). */
  url(database: string, params?: Readonly<Record<string, string>>): string
  /** Runs a command on PgBouncer's admin console (`SHOW POOLS`, `RECONNECT`, …). */
  admin(command: string): Promise<Record<string, unknown>[]>
  /** The log so far (for failure messages). */
  log(): Promise<string>
  stop(): Promise<void>
}

/** Why PgBouncer cannot run here, or undefined when it can. */
export function pgBouncerSkipReason(): string | undefined {
  if (!existsSync(PGBOUNCER_BIN)) return `PgBouncer is not installed (${PGBOUNCER_BIN}): apt-get install -y pgbouncer`
  return undefined
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race with other processes is accepted). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/**
 * Starts PgBouncer in front of `serverUrl`'s server. As root it drops to the `postgres` user
 * (`-u postgres`: it refuses to run as root), so its folder and files are handed to that user.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const server = new URL(options.serverUrl)
  const user = decodeURIComponent(server.username || 'postgres')
  const dir = await mkdtemp(join(tmpdir(), 'wk-pgbouncer-'))
  const port = await freePort()
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    unix_socket_dir: '',
    auth_type: 'trust',
    auth_file: join(dir, 'userlist.txt'),
    pool_mode: options.poolMode ?? 'transaction',
    default_pool_size: options.poolSize ?? 5,
    max_client_conn: 1000,
    admin_users: user,
    logfile: join(dir, 'pgbouncer.log'),
    pidfile: join(dir, 'pgbouncer.pid'),
    ignore_startup_parameters: 'extra_float_digits,options',
    // Fail fast rather than hang a test when the pool is starved.
    query_wait_timeout: 30,
    ...options.settings,
  }
  const config =
    `[databases]\n* = host=${server.hostname} port=${server.port || 5432} user=${user}\n\n[pgbouncer]\n` +
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') +
    '\n'
  await writeFile(join(dir, 'pgbouncer.ini'), config)
  await writeFile(join(dir, 'userlist.txt'), `"${user}" ""\n`)
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    const uid = Number(ids.stdout.trim())
    const gid = Number(gids.stdout.trim())
    for (const f of ['', 'pgbouncer.ini', 'userlist.txt']) await chown(join(dir, f), uid, gid)
  }
  await chmod(dir, 0o755)

  const child: ChildProcess = spawn(
    PGBOUNCER_BIN,
    [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // If the test process ends without stopping it, do not leave PgBouncer behind.
  const onExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', onExit)

  const readLog = async (): Promise<string> =>
    (await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')) + stderr
  try {
    await waitForPort(port, 10_000, () => child.exitCode !== null)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`PgBouncer did not start: ${(error as Error).message}\n${await readLog()}`)
  }

  const url = (database: string, params: Readonly<Record<string, string>> = {}): string => {
    const u = new URL(options.serverUrl)
    u.hostname = '127.0.0.1'
    u.port = String(port)
    u.pathname = `/${encodeURIComponent(database)}`
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v)
    return u.toString()
  }

  return Object.freeze({
    port,
    url,
    log: readLog,
    async admin(command: string) {
      const client = await connectClient(url('pgbouncer'))
      try {
        // The admin console speaks the simple protocol only.
        return (await client.query(command)).rows as Record<string, unknown>[]
      } finally {
        await client.end()
      }
    },
    async stop() {
      process.off('exit', onExit)
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    },
  })
}

async function waitForPort(port: number, timeoutMs: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (died()) throw new Error('the process exited')
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`port ${port} not open after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
