// The lock that gives an embedded database's folder to one process at a time: real processes,
// real files. (PGlite itself is opened by the CLI suite, test/cli-embedded.e2e.ts.)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it, onTestFinished } from 'vitest'

import { createDatabase, EmbeddedDatabaseBusyError, MigrationError, MigrationRunner } from '../src/index.js'
import { lockEmbeddedFolder, thrownText } from '../src/connect/index.js'
import { lockFileOf } from '../src/connect/index.js'
import { describeCommand, processStartTime } from '../src/connect/process-identity.js'
import { startProcess, type RunningProcess } from './support/cli-process.js'

const TSX = ['--import', 'tsx']

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-lock-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'pglite')
  await mkdir(dataDir)
  return dataDir
}

function lockChild(dataDir: string, busyTimeoutMs: number, goFile = '-', mode?: '--exit' | '--kill'): RunningProcess {
  const args = [dataDir, String(busyTimeoutMs), goFile, ...(mode ? [mode] : [])]
  const child = startProcess(process.execPath, [...TSX, 'test/support/folder-lock-child.ts', ...args])
  onTestFinished(() => {
    child.child.kill('SIGKILL')
  })
  return child
}

/** The pid of a process that has ended (and whose pid no process has taken since, most likely). */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(run.stdout)
}

function staleRecord(pid: number, extra: Record<string, unknown> = {}): string {
  const since = '2026-01-01T00:00:00.000Z'
  return `${JSON.stringify({ pid, host: hostname(), command: 'node gone.js', since, token: 'ab'.repeat(12), ...extra })}\n`
}

function record(dataDir: string): { pid: number; token: string; startTime?: string; command?: string } {
  return JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8')) as {
    pid: number
    token: string
    startTime?: string
    command?: string
  }
}

describe('the embedded folder lock', { timeout: 120_000 }, () => {
  it('records the owner (pid, start time, command) and is gone after release', async () => {
    const dataDir = await folder()
    const lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    const held = record(dataDir)
    expect(held.pid).toBe(process.pid)
    expect(held.startTime).toBe(processStartTime(process.pid))
    if (process.platform === 'linux') expect(held.startTime).toMatch(/^linux:[0-9a-f-]*:\d+$/)
    expect(held.command).toMatch(/^node /)
    // Only the lock itself: the private file it was written to is gone.
    expect(readdirSync(join(dataDir, '..')).sort()).toEqual(['pglite', 'pglite.lock'])
    lock.release()
    lock.release()
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
  })

  it('a second process waits for the holder, then gets the folder; with a shorter wait it fails naming the holder', async () => {
    const dataDir = await folder()
    const holder = lockChild(dataDir, 0)
    await holder.waitFor(/^won \d+$/m)

    // This process (a second owner, as far as the lock is concerned) gives up after its wait.
    const onBusy: unknown[] = []
    const error = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 300, onBusy: (h) => onBusy.push(h) }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EmbeddedDatabaseBusyError)
    expect(error).toBeInstanceOf(MigrationError)
    const busy = error as EmbeddedDatabaseBusyError
    expect(busy.code).toBe('EMBEDDED_DATABASE_BUSY')
    expect(busy.dataDir).toBe(dataDir)
    expect(busy.holder).toMatchObject({ pid: holder.pid, host: hostname() })
    expect(busy.holder?.command).toContain('folder-lock-child.ts')
    expect(busy.waitedMs).toBeGreaterThanOrEqual(300)
    expect(busy.busyTimeoutMs).toBe(300)
    expect(busy.message).toContain(`the embedded database in ${dataDir} is open in process ${holder.pid} (`)
    expect(onBusy).toEqual([busy.holder])

    // busyTimeoutMs 0: at once, without waiting.
    const now = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 }).catch((e: unknown) => e)
    expect(now).toMatchObject({ code: 'EMBEDDED_DATABASE_BUSY', busyTimeoutMs: 0 })
    expect((now as Error).message).not.toContain('waited')

    // A waiter with room to wait gets the folder once the holder lets go.
    const waiter = lockEmbeddedFolder(dataDir, { busyTimeoutMs: 60_000 })
    holder.closeStdin()
    const lock = await waiter
    expect((await holder.exited).stdout).toContain('released\n')
    expect(record(dataDir).pid).toBe(process.pid)
    lock.release()
  })

  it('a lock left by a process that ended (process.exit without closing) is released by its exit hook', async () => {
    const dataDir = await folder()
    const child = lockChild(dataDir, 0, '-', '--exit')
    const run = await child.exited
    expect(run.stdout).toContain('won ')
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
  })

  it('a lock whose owner was SIGKILLed is taken over', async () => {
    const dataDir = await folder()
    const child = lockChild(dataDir, 0, '-', '--kill')
    const run = await child.exited
    expect(run.signal).toBe('SIGKILL')
    expect(record(dataDir).pid).toBe(child.pid)
    const lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    expect(record(dataDir).pid).toBe(process.pid)
    lock.release()
  })

  it('stale lock files are taken over: a dead pid, a recycled pid (same pid, other start time), a damaged file', async () => {
    const dataDir = await folder()
    writeFileSync(lockFileOf(dataDir), staleRecord(deadPid()))
    let lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    expect(record(dataDir).pid).toBe(process.pid)
    lock.release()

    // A running process holds the pid now, but it is not the one that wrote the lock.
    const live = startProcess(process.execPath, ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'])
    onTestFinished(() => {
      live.child.kill('SIGKILL')
    })
    await live.waitFor(/^ready$/m)
    writeFileSync(lockFileOf(dataDir), staleRecord(live.pid, { startTime: 'linux:other-boot:1' }))
    lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    lock.release()
    // The same record with the process's real start time is respected.
    const startTime = processStartTime(live.pid)
    if (startTime) {
      writeFileSync(lockFileOf(dataDir), staleRecord(live.pid, { startTime }))
      await expect(lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })).rejects.toMatchObject({
        code: 'EMBEDDED_DATABASE_BUSY',
        holder: { pid: live.pid },
      })
    }
    // Another host's lock cannot be checked from here, so it is respected.
    writeFileSync(lockFileOf(dataDir), staleRecord(deadPid(), { host: 'elsewhere.invalid' }))
    await expect(lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })).rejects.toThrow(
      `(node gone.js) on elsewhere.invalid since 2026-01-01T00:00:00.000Z ` +
        `(this host cannot tell whether it still runs: if it does not, delete ${lockFileOf(dataDir)})`,
    )

    // Damaged beyond reading (and not being written: older than a moment).
    writeFileSync(lockFileOf(dataDir), '{"pid": 12')
    await new Promise((r) => setTimeout(r, 2100))
    lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    expect(record(dataDir).pid).toBe(process.pid)
    lock.release()
  })

  it('a stale takeover step left by a crash is itself taken over', async () => {
    const dataDir = await folder()
    const stale = staleRecord(deadPid())
    writeFileSync(lockFileOf(dataDir), stale)
    const token = (JSON.parse(stale) as { token: string }).token
    writeFileSync(`${lockFileOf(dataDir)}.takeover-${token}`, staleRecord(deadPid(), { token: 'cd'.repeat(12) }))
    const lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 })
    expect(record(dataDir).pid).toBe(process.pid)
    lock.release()
    expect(readdirSync(join(dataDir, '..')).filter((f) => f.includes('.lock'))).toEqual([])
  })

  it('threads released onto the same stale lock at the same instant: exactly one takes it over, in each of 300 rounds', async () => {
    const dataDir = await folder()
    // Worker threads, woken by one futex notify, collide far more tightly than processes can;
    // a takeover that deletes and recreates the lock without the takeover step fails here.
    const race = startProcess(process.execPath, [
      ...TSX,
      'test/support/lock-race.ts',
      dataDir,
      String(deadPid()),
      '300',
      '4',
    ])
    const run = await race.exited
    expect(run.stderr).toBe('')
    const { winners } = JSON.parse(run.stdout) as { winners: number[] }
    expect(winners).toHaveLength(300)
    expect(winners.filter((n) => n !== 1)).toEqual([])
  })

  it('processes that find the same stale lock at the same instant: exactly one takes it over', async () => {
    const dataDir = await folder()
    writeFileSync(lockFileOf(dataDir), staleRecord(deadPid()))
    const go = join(dataDir, 'go')
    const children = Array.from({ length: 6 }, () => lockChild(dataDir, 0, go))
    await Promise.all(children.map((c) => c.waitFor(/^ready$/m)))
    writeFileSync(go, String(Date.now() + 500))
    const outcome = (c: RunningProcess) => c.waitFor(/^(won|busy) /m).then((out) => /^(won|busy) (\S+)$/m.exec(out)!)
    const lines = await Promise.all(children.map(outcome))
    const winners = lines.filter((m) => m[1] === 'won')
    expect(winners).toHaveLength(1)
    const winner = Number(winners[0]![2])
    // The losers name the winner, and the lock file is the winner's.
    for (const m of lines.filter((l) => l[1] === 'busy')) expect(Number(m[2])).toBe(winner)
    expect(record(dataDir).pid).toBe(winner)
    for (const c of children) c.closeStdin()
    await Promise.all(children.map((c) => c.exited))
    expect(readdirSync(join(dataDir, '..')).filter((f) => f.includes('.lock'))).toEqual([])
  })

  it('createDatabase holds the folder while open and frees it on destroy; a second open in the same process is refused', async () => {
    const dataDir = await folder()
    const db = await createDatabase({ driver: 'pglite', dataDir })
    try {
      expect(record(dataDir).pid).toBe(process.pid)
      await expect(createDatabase({ driver: 'pglite', dataDir, busyTimeoutMs: 0 })).rejects.toThrow(
        new RegExp(
          `the embedded database in ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is open in this process ${process.pid} ` +
            '.*give its Kysely instance to MigrationRunner as `db`',
        ),
      )
    } finally {
      await db.destroy()
    }
    expect(existsSync(lockFileOf(dataDir))).toBe(false)
  })

  it('the runner on the embedded default waits as long as its option, else WUKONG_PGLITE_BUSY_TIMEOUT_MS, says so once, then fails', async () => {
    const dataDir = await folder()
    const holder = lockChild(dataDir, 0)
    await holder.waitFor(/^won \d+$/m)
    const lines: string[] = []
    const status = (options: { busyTimeoutMs?: number; env?: Record<string, string> }) =>
      new MigrationRunner({
        env: { WUKONG_PGLITE_DIR: dataDir, ...options.env },
        timeouts: { embeddedBusyMs: options.busyTimeoutMs },
        log: (l) => lines.push(l),
      })
        .status()
        .catch((e: unknown) => e)

    const byOption = await status({ busyTimeoutMs: 200, env: { WUKONG_PGLITE_BUSY_TIMEOUT_MS: '0' } })
    expect(byOption).toMatchObject({ code: 'EMBEDDED_DATABASE_BUSY', busyTimeoutMs: 200, holder: { pid: holder.pid } })
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^The embedded database in .* is open in process ${holder.pid} \\(node folder-lock-child\\.ts .*\\); waiting up to 200 ms for it to close$`,
        ),
      ),
    ])
    lines.length = 0
    const byEnv = await status({ env: { WUKONG_PGLITE_BUSY_TIMEOUT_MS: '0' } })
    expect(byEnv).toMatchObject({ code: 'EMBEDDED_DATABASE_BUSY', busyTimeoutMs: 0 })
    expect(lines).toEqual([])
    holder.closeStdin()
    await holder.exited
  })

  it('records a command line without folders or anything that may be a secret', () => {
    const argv = [
      '/usr/bin/node',
      '/app/bin/wukong-migrate.js',
      'migrate',
      '--url',
      'postgres://u:pw@h/db',
      '--password',
      'hunter2',
    ]
    expect(describeCommand([...argv, '--token=abc', '--dir', '/app/migrations'])).toBe(
      'node wukong-migrate.js migrate --url … --password … … --dir migrations',
    )
    expect(describeCommand(['node', 'server.js', 'user@example.com', 'x'.repeat(65)])).toBe('node server.js … …')
  })

  it('renders what PGlite throws as text, never [object Object]', () => {
    // Emscripten's ExitStatus (what PGlite throws when its PostgreSQL exits) is not an Error.
    const exit = { name: 'ExitStatus', message: 'Program terminated with exit(1)', status: 1 }
    expect(thrownText(exit)).toBe("PGlite's PostgreSQL exited with status 1")
    // Emscripten's ErrnoError: what a second PGlite on a folder in use threw.
    expect(thrownText({ name: 'ErrnoError', errno: 20 })).toBe("PGlite's file system failed: EEXIST (file exists)")
    expect(thrownText({ name: 'ErrnoError', errno: 44 })).toBe(
      "PGlite's file system failed: ENOENT (no such file or directory)",
    )
    expect(thrownText({ name: 'ErrnoError', errno: 9999 })).toBe("PGlite's file system failed: errno 9999")
    expect(thrownText({ message: 'no such file' })).toBe('no such file')
    expect(thrownText({ errno: 44 })).toBe('{ errno: 44 }')
    expect(thrownText(new Error('boom'))).toBe('boom')
  })
})
