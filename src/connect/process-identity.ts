import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

/** This machine's boot id (Linux), else ''. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
}

/** Field 22 of `/proc/<pid>/stat`, the start in clock ticks since boot (Linux only). */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]
    return ticks && /^\d+$/.test(ticks) ? ticks : undefined
  } catch {
    return undefined
  }
}

// Tells a process apart from a later one with its pid; undefined where it cannot be read (Windows).
export function processStartTime(pid: number): string | undefined {
  if (process.platform === 'linux') {
    const ticks = startTicks(pid)
    return ticks ? `linux:${bootId()}:${ticks}` : undefined
  }
  if (process.platform === 'win32') return undefined
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return started ? `ps:${started}` : undefined
  } catch {
    return undefined
  }
}

/** Whether a process on this machine runs, and is the one that started at `startTime` when that is known. */
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

/** This process's command line for people, without folders, URLs, `name=value` pairs or secret-sounding flags' values. */
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
