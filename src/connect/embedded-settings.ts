import { resolve } from 'node:path'

// The embedded database's settings, apart from its driver so that reading them loads nothing.

/** How long to wait for another process to close the embedded database's folder, by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000

/**
 * The default folder of the embedded database: `WUKONG_PGLITE_DIR`, else `.wukong/pglite`
 * under the current directory.
 */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['WUKONG_PGLITE_DIR'] ?? '.wukong/pglite')
}

/**
 * The embedded database's wait for a folder another process has open: `busyTimeoutMs` if
 * given, else `WUKONG_PGLITE_BUSY_TIMEOUT_MS`, else 10 000 ms (0 fails at once).
 */
export function embeddedBusyTimeoutMs(busyTimeoutMs?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (busyTimeoutMs !== undefined) return busyTimeoutMs
  const text = env['WUKONG_PGLITE_BUSY_TIMEOUT_MS']
  if (text === undefined || text === '') return DEFAULT_BUSY_TIMEOUT_MS
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new RangeError(`WUKONG_PGLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got "${text}"`)
  }
  return Number(text)
}
