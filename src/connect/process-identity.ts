import { execFileSync, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

/**
 * When a process started, as a string that differs between two processes that had the same
 * pid: on Linux the boot id and `/proc/<pid>/stat`'s start time (field 22, clock ticks since
 * boot); elsewhere `ps -o lstart=` (to the second). Undefined when it cannot be read (no such
 * process, Windows): the caller then knows the pid only.
 */
export function processStartTime(pid: number): string | undefined {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      // The command name (field 2) is in parentheses and may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ticks = fields[22 - 3]
      return ticks ? `linux:${bootId()}:${ticks}` : undefined
    } catch {
      return undefined
    }
  }
  if (process.platform === 'win32') return undefined
  try {
    const options: ExecFileSyncOptionsWithStringEncoding = {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], options).trim()
    return started ? `ps:${started}` : undefined
  } catch {
    return undefined
  }
}

let cachedBootId: string | undefined

function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    } catch {
      cachedBootId = ''
    }
  }
  return cachedBootId
}

/**
 * Whether a process on this machine is running: the pid exists and, when `startTime` is known
 * (see {@link processStartTime}), it is the same process, not a later one that got the pid.
 */
export function isProcessRunning(pid: number, startTime: string | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (startTime === undefined) return true
  const now = processStartTime(pid)
  return now === undefined || now === startTime
}

// A flag whose value may be secret: its value is left out of the recorded command.
const SECRET_FLAG = /pass|secret|token|key|url|auth|cred/i

/**
 * A short, secret-free description of this process's command line for people, e.g.
 * `node wukong-migrate.js migrate --dir migrations`: file names without their folders, and no
 * argument that looks like a URL, a `name=value` pair or the value of a secret-sounding flag.
 */
export function describeCommand(argv: readonly string[] = [process.execPath, ...process.argv.slice(1)]): string {
  const [program, script, ...args] = argv
  const words = [program ? basename(program) : 'node']
  if (script) words.push(basename(script))
  let previous = ''
  for (const arg of args.slice(0, 8)) {
    const plain = /^[\w.,:/+-]{1,64}$/.test(arg) && !arg.includes('://')
    const hidden = !plain || SECRET_FLAG.test(previous)
    words.push(hidden ? '…' : arg.includes('/') ? basename(arg) : arg)
    previous = arg.startsWith('-') && !arg.includes('=') ? arg : ''
  }
  return words.join(' ')
}
