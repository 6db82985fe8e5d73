import { resolve } from 'node:path'

// Apart from the driver, so that reading them loads nothing.
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000

/** The embedded database's folder: `WUKONG_PGLITE_DIR`, else `.wukong/pglite` under the current directory. */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['WUKONG_PGLITE_DIR'] ?? '.wukong/pglite')
}

/** The wait for a folder another process has open: `busyTimeoutMs`, else `WUKONG_PGLITE_BUSY_TIMEOUT_MS`, else 10 s. */
export function embeddedBusyTimeoutMs(busyTimeoutMs?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (busyTimeoutMs !== undefined) return busyTimeoutMs
  const text = env['WUKONG_PGLITE_BUSY_TIMEOUT_MS']
  if (text === undefined || text === '') return DEFAULT_BUSY_TIMEOUT_MS
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new RangeError(`WUKONG_PGLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got "${text}"`)
  }
  return Number(text)
}
