import { createHash, randomBytes } from 'node:crypto'
import { linkSync, lstatSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'

import { DEFAULT_BUSY_TIMEOUT_MS } from './embedded-settings.js'
import { EmbeddedDatabaseBusyError, type EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import { describeCommand, isProcessRunning, processStartTime } from './process-identity.js'

interface LockEmbeddedFolderOptions {
  readonly busyTimeoutMs?: number | undefined
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
}

// The lock file's JSON; `token` names the claim, so release and takeover act only on the claim they read.
interface LockRecord extends EmbeddedFolderHolder {
  readonly token: string
  readonly startTime?: string | undefined
}

// A lock file as read; `young`: it does not parse but its writer may still be at work.
interface Seen {
  readonly id: string
  readonly record: LockRecord | undefined
  readonly young: boolean
}

// A crashed takeover leaves its helper lock stale, taken over one level down; deeper: wait rather than guess.
const MAX_TAKEOVER_DEPTH = 3
const POLL_MS = 100
// Only where files are written in place (no hard links) can a lock file be seen half-written.
const UNPARSED_GRACE_MS = 2000

// What link(2) fails with where a file system has no hard links.
const NO_LINKS: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

const held = new Set<EmbeddedFolderLock>()
let exitHookInstalled = false

/** The file next to a data folder that names the process that has it open. */
export function lockFileOf(dataDir: string): string {
  return `${dataDir}.lock`
}

// The lock file is hard-linked into place whole; a stale one is replaced only by whoever claims `<lock>.takeover-<claim>`.
export async function lockEmbeddedFolder(
  dataDir: string,
  options: LockEmbeddedFolderOptions = {},
): Promise<EmbeddedFolderLock> {
  const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new RangeError(`busyTimeoutMs must be a number of milliseconds ≥ 0, got ${timeout}`)
  }
  const file = lockFileOf(dataDir)
  const started = Date.now()
  let notified = false
  for (;;) {
    const outcome = claim(file, 0)
    if (outcome.claimed) {
      const lock = new EmbeddedFolderLock(file, outcome.token)
      held.add(lock)
      installExitHook()
      return lock
    }
    const waited = Date.now() - started
    if (waited >= timeout) {
      const { holder } = outcome
      throw new EmbeddedDatabaseBusyError({ dataDir, lockFile: file, holder, waitedMs: waited, busyTimeoutMs: timeout })
    }
    if (!notified) {
      notified = true
      options.onBusy?.(outcome.holder)
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, timeout - waited)))
  }
}

/** This process's hold on an embedded database's folder, from {@link lockEmbeddedFolder}. */
export class EmbeddedFolderLock {
  readonly #file: string
  readonly #token: string
  #released = false

  constructor(file: string, token: string) {
    this.#file = file
    this.#token = token
  }

  /** Removes the lock file if it is still this claim's. Idempotent. */
  release(): void {
    if (this.#released) return
    this.#released = true
    held.delete(this)
    removeIfClaim(this.#file, this.#token)
  }
}

type ClaimOutcome =
  | { readonly claimed: true; readonly token: string }
  | { readonly claimed: false; readonly holder: EmbeddedFolderHolder | undefined }

function claim(file: string, depth: number): ClaimOutcome {
  // A few rounds: each lost race means another process made progress (released, took over).
  for (let round = 0; round < 5; round++) {
    const token = create(file)
    if (token) return { claimed: true, token }
    const seen = read(file)
    if (!seen) continue // released in between
    const busy = { claimed: false, holder: seen.record && holderOf(seen.record) } as const
    if (seen.record ? isAlive(seen.record) : seen.young) return busy
    if (depth >= MAX_TAKEOVER_DEPTH) return busy
    const helper = claim(`${file}.takeover-${seen.id}`, depth + 1)
    // Another process is taking the stale lock over: it is the one to name.
    if (!helper.claimed) return helper.holder ? helper : busy
    try {
      // Holding the helper, replace the stale claim if it is still in place, in one rename.
      const now = read(file)
      if (now?.id === seen.id) return { claimed: true, token: replace(file) }
    } finally {
      removeIfClaim(`${file}.takeover-${seen.id}`, helper.token)
    }
  }
  const seen = read(file)
  return { claimed: false, holder: seen?.record && holderOf(seen.record) }
}

// This process's record for a new claim, in a private file beside `file`.
function privateRecord(file: string): { readonly token: string; readonly text: string; readonly tmp: string } {
  const token = randomBytes(12).toString('hex')
  ownStartTime ??= { value: processStartTime(process.pid) }
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    command: describeCommand(),
    since: new Date().toISOString(),
    token,
    startTime: ownStartTime.value,
  }
  const text = `${JSON.stringify(record)}\n`
  const tmp = `${file}.${process.pid}.${token}.tmp`
  writeFileSync(tmp, text, { flag: 'wx' })
  return { token, text, tmp }
}

// Replaces a stale claim with this process's; returns its token.
function replace(file: string): string {
  const { token, tmp } = privateRecord(file)
  try {
    renameSync(tmp, file)
  } catch (error) {
    unlinkQuietly(tmp)
    throw error
  }
  return token
}

// Creates `file` holding this process's record, unless it exists; returns its token.
function create(file: string): string | undefined {
  const { token, text, tmp } = privateRecord(file)
  try {
    try {
      linkSync(tmp, file)
    } catch (error) {
      // No hard links (some network and FAT file systems): create it in place.
      if (!NO_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error
      writeFileSync(file, text, { flag: 'wx' })
    }
    return token
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw error
  } finally {
    unlinkQuietly(tmp)
  }
}

function read(file: string): Seen | undefined {
  let raw: string
  let mtimeMs: number
  let ino: number
  try {
    raw = readFileSync(file, 'utf8')
    const stat = lstatSync(file)
    mtimeMs = stat.mtimeMs
    ino = stat.ino
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const record = parse(raw)
  if (record) return { id: record.token, record, young: false }
  const id = `x${createHash('sha256').update(`${ino}:${mtimeMs}:${raw}`).digest('hex').slice(0, 24)}`
  return { id, record: undefined, young: Date.now() - mtimeMs < UNPARSED_GRACE_MS }
}

function parse(raw: string): LockRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockRecord> | null
    if (!value || typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined
    if (typeof value.token !== 'string' || !/^[0-9a-f]{8,64}$/.test(value.token)) return undefined
    return value as LockRecord
  } catch {
    return undefined
  }
}

function isAlive(record: LockRecord): boolean {
  // A process on another host (a shared folder) cannot be checked from here.
  if (record.host !== hostname()) return true
  return isProcessRunning(record.pid, record.startTime)
}

function holderOf(record: LockRecord): EmbeddedFolderHolder {
  return Object.freeze({ pid: record.pid, host: record.host, command: record.command, since: record.since })
}

function removeIfClaim(file: string, token: string): void {
  try {
    if (read(file)?.id === token) unlinkSync(file)
  } catch {
    // Already gone, or unreadable: a lock file this process cannot read is not its own.
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // Gone already.
  }
}

let ownStartTime: { readonly value: string | undefined } | undefined

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Frees the folder on process.exit or an uncaught error; a killed process's lock is taken over.
  process.on('exit', () => {
    for (const lock of [...held]) lock.release()
  })
}
