import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'

import { DEFAULT_BUSY_TIMEOUT_MS } from './embedded-settings.js'
import { EmbeddedDatabaseBusyError, type EmbeddedFolderHolder } from './embedded-database-busy-error.js'
import { describeCommand, isProcessRunning, processStartTime } from './process-identity.js'

/** Options of {@link lockEmbeddedFolder}. */
export interface LockEmbeddedFolderOptions {
  /** Longest wait for the holder to let go; 0 fails at once. Default {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  readonly busyTimeoutMs?: number | undefined
  /** Called once, when the folder turns out to be held and the wait begins. */
  readonly onBusy?: (holder: EmbeddedFolderHolder | undefined) => void
}

/** What a lock file holds (JSON). */
interface LockRecord extends EmbeddedFolderHolder {
  /** Identifies this claim: release and takeover act only on the claim they read. */
  readonly token: string
  /** See `processStartTime`; absent where it cannot be read. */
  readonly startTime?: string | undefined
}

/** A lock file as read: its claim's identity and, when it parses, its record. */
interface Seen {
  readonly id: string
  readonly record: LockRecord | undefined
  /** True while a lock file that does not parse is young: its writer may still be at work. */
  readonly young: boolean
}

// A takeover claims a helper lock named after the claim it replaces; a crash in that short step
// leaves the helper stale, to be taken over the same way one level down. A deeper chain than
// this means something other than crashes is at work: wait rather than guess.
const MAX_TAKEOVER_DEPTH = 3
const POLL_MS = 100
// Lock files are written whole before they appear (see `#create`); one that does not parse is
// damaged, unless it is this young, on a file system without hard links where it is written in place.
const UNPARSED_GRACE_MS = 2000

// What link(2) fails with where a file system has no hard links.
const NO_LINKS: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

const held = new Set<EmbeddedFolderLock>()
let exitHookInstalled = false

/** The file next to a data folder that says which process has it open: `<folder>.lock`. */
export function lockFileOf(dataDir: string): string {
  return `${dataDir}.lock`
}

/**
 * Takes the embedded database's folder for this process, waiting up to `busyTimeoutMs` while
 * another running process has it, and throws an {@link EmbeddedDatabaseBusyError} naming that
 * process when the wait ends. A lock whose process is gone (killed, crashed) is taken over.
 * The lock is released by `release()` or when this process exits.
 *
 * How: `<folder>.lock` holds the owner's pid, start time (so a recycled pid is not mistaken for
 * the owner), host and command. It is written to a private file first and hard-linked into
 * place, so it appears whole or not at all and only one of two racing processes creates it. A
 * stale lock is replaced only by the process that claims `<folder>.lock.takeover-<claim>`
 * (the same kind of lock, named after the stale claim), after checking that the stale claim
 * is still the one in place: two processes that find the same stale lock cannot both win.
 */
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
      const lock = new EmbeddedFolderLock(dataDir, file, outcome.token)
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
  readonly #dataDir: string
  readonly #file: string
  readonly #token: string
  #released = false

  constructor(dataDir: string, file: string, token: string) {
    this.#dataDir = dataDir
    this.#file = file
    this.#token = token
  }

  get dataDir(): string {
    return this.#dataDir
  }

  get lockFile(): string {
    return this.#file
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
      // Holding the helper, nobody else can replace this stale claim, and its dead owner
      // cannot release it: if it is still in place, replace it in one step (a rename over it),
      // so that no other process can slip in while the lock file is absent.
      const now = read(file)
      if (now?.id === seen.id) return { claimed: true, token: replace(file) }
    } finally {
      removeIfClaim(`${file}.takeover-${seen.id}`, helper.token)
    }
  }
  const seen = read(file)
  return { claimed: false, holder: seen?.record && holderOf(seen.record) }
}

/** This process's record for a new claim, written to a private file beside `file`. */
function privateRecord(file: string): { readonly token: string; readonly text: string; readonly tmp: string } {
  const token = randomBytes(12).toString('hex')
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    command: describeCommand(),
    since: new Date().toISOString(),
    token,
    startTime: ownStartTime(),
  }
  const text = `${JSON.stringify(record)}\n`
  const tmp = `${file}.${process.pid}.${token}.tmp`
  writeFileSync(tmp, text, { flag: 'wx' })
  return { token, text, tmp }
}

/** Replaces `file` with this process's record in one step (for a stale claim); returns its token. */
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

/** Creates `file` holding this process's record, if no such file exists; returns its token. */
function create(file: string): string | undefined {
  const { token, text, tmp } = privateRecord(file)
  try {
    linkSync(tmp, file)
    return token
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return undefined
    // No hard links here (some network and FAT file systems): create it in place instead.
    if (NO_LINKS.has(code ?? '')) return createInPlace(file, text, token)
    throw error
  } finally {
    unlinkQuietly(tmp)
  }
}

function createInPlace(file: string, text: string, token: string): string | undefined {
  let fd: number
  try {
    fd = openSync(file, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw error
  }
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  return token
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

let cachedStartTime: string | null | undefined

function ownStartTime(): string | undefined {
  if (cachedStartTime === undefined) cachedStartTime = processStartTime(process.pid) ?? null
  return cachedStartTime ?? undefined
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // A process that ends without closing its database (process.exit, an uncaught error) frees
  // the folder here. A process killed outright leaves its lock behind; the next one finds the
  // owner gone and takes the lock over.
  process.on('exit', () => {
    for (const lock of [...held]) lock.release()
  })
}
