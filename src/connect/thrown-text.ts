import { inspect } from 'node:util'

/** What was thrown, as text for people: PGlite throws non-`Error`s (`ExitStatus`, `ErrnoError`, plain objects). */
export function thrownText(value: unknown): string {
  if (value instanceof Error) return value.message || value.name
  if (typeof value === 'string') return value
  if (value && typeof value === 'object') {
    const { name, status, message } = value as { name?: unknown; status?: unknown; message?: unknown }
    if (name === 'ExitStatus' && typeof status === 'number') return `PGlite's PostgreSQL exited with status ${status}`
    const { errno } = value as { errno?: unknown }
    if (name === 'ErrnoError' && typeof errno === 'number') {
      const known = EMSCRIPTEN_ERRNO[errno]
      return `PGlite's file system failed: ${known ? `${known[0]} (${known[1]})` : `errno ${errno}`}`
    }
    if (typeof message === 'string' && message) return message
    return inspect(value, { depth: 2, breakLength: Infinity })
  }
  return String(value)
}

// Emscripten's errno numbers (musl's, not the host's), for the errors a data folder can cause.
const EMSCRIPTEN_ERRNO: Readonly<Record<number, readonly [string, string]>> = {
  2: ['EACCES', 'permission denied'],
  10: ['EBUSY', 'resource busy'],
  19: ['EDQUOT', 'disk quota exceeded'],
  20: ['EEXIST', 'file exists'],
  28: ['EINVAL', 'invalid argument'],
  29: ['EIO', 'input/output error'],
  31: ['EISDIR', 'is a directory'],
  33: ['EMFILE', 'too many open files'],
  44: ['ENOENT', 'no such file or directory'],
  51: ['ENOSPC', 'no space left on device'],
  54: ['ENOTDIR', 'not a directory'],
  55: ['ENOTEMPTY', 'directory not empty'],
  63: ['EPERM', 'operation not permitted'],
  69: ['EROFS', 'read-only file system'],
}

/** `value` if it is an `Error`, else one whose message is {@link thrownText} and cause `value`. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(thrownText(value), { cause: value })
}
