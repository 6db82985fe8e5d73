import { inspect } from 'node:util'

/**
 * What was thrown, as one line of text for people. PGlite can throw values that are not
 * `Error`s (Emscripten's `ExitStatus` when its PostgreSQL exits, plain objects), which
 * `String(value)` would print as `[object Object]`.
 *
 * @example
 * ```ts
 * thrownText(new Error('boom'))                 // 'boom'
 * thrownText({ name: 'ExitStatus', status: 1 }) // "PGlite's PostgreSQL exited with status 1"
 * ```
 */
export function thrownText(value: unknown): string {
  if (value instanceof Error) return value.message || value.name
  if (typeof value === 'string') return value
  if (value && typeof value === 'object') {
    const { name, status, message } = value as { name?: unknown; status?: unknown; message?: unknown }
    if (name === 'ExitStatus' && typeof status === 'number') return `PGlite's PostgreSQL exited with status ${status}`
    if (typeof message === 'string' && message) return message
    return inspect(value, { depth: 2, breakLength: Infinity })
  }
  return String(value)
}

/**
 * `value` if it is an `Error`, else an `Error` whose message is {@link thrownText} (the value
 * kept as `cause`), so that every error cause has a readable message.
 *
 * @example
 * ```ts
 * asError({ name: 'ExitStatus', status: 1 }).message // "PGlite's PostgreSQL exited with status 1"
 * ```
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(thrownText(value), { cause: value })
}
