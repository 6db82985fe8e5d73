import type { Kysely } from 'kysely'

import type { Database } from '../schema-types/index.js'
import { guardConnectionErrors, type ConnectionErrorSource } from './guard-connection-errors.js'
import { importAtRunTime } from '../provider/import-at-run-time.js'
import { importDriver } from './import-driver.js'

const NEON = '@neondatabase/serverless'
const VERCEL_KYSELY = '@vercel/postgres-kysely'

/**
 * Settings of `@neondatabase/serverless`, the WebSocket client under `@vercel/postgres`.
 * Production on Vercel needs none of them; they exist to reach a database that is not Neon,
 * e.g. a local server through a WebSocket-to-TCP proxy in tests. Spelled out here rather than
 * picked from that package's `NeonConfig`, so that the declarations compile in apps that do not
 * install the optional driver.
 */
export interface NeonSettings {
  /** Host (and path) of a WebSocket proxy, or a function of the database's host and port. */
  readonly wsProxy?: string | ((host: string, port: number | string) => string) | undefined
  readonly useSecureWebSocket?: boolean | undefined
  readonly pipelineConnect?: 'password' | false | undefined
  readonly pipelineTLS?: boolean | undefined
  readonly forceDisablePgSSL?: boolean | undefined
  readonly coalesceWrites?: boolean | undefined
  /** A `WebSocket` class, where the runtime has no global one (e.g. `ws`'s). */
  readonly webSocketConstructor?: unknown | undefined
}

/**
 * Applies {@link NeonSettings} to `neonConfig`. They are process-wide: `@vercel/postgres`
 * creates its clients itself, so per-client settings cannot reach them. Loads
 * `@neondatabase/serverless` on first use.
 *
 * @example
 * ```ts
 * await configureNeon({ wsProxy: (host, port) => `localhost:8080/v2?address=${host}:${port}`,
 *   useSecureWebSocket: false, pipelineConnect: false, pipelineTLS: false })
 * ```
 */
export async function configureNeon(settings: NeonSettings): Promise<void> {
  const { neonConfig } = await importDriver(
    'vercel driver',
    () => importAtRunTime<typeof import('@neondatabase/serverless')>(NEON),
    NEON,
  )
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) (neonConfig as unknown as Record<string, unknown>)[name] = value
  }
}

/** Options of {@link createVercelDatabase}. */
export interface VercelDatabaseOptions {
  /** Applied with {@link configureNeon} before the pool is made. */
  readonly neon?: NeonSettings | undefined
  /** Pool size. Default 10. */
  readonly max?: number | undefined
}

/**
 * `@vercel/postgres-kysely`'s Kysely over a URL: queries travel over a WebSocket (Neon's
 * serverless driver), so it runs where TCP sockets do not (Vercel's Edge runtime). As that
 * package decides: the URL must be a pooled one (a `-pooler.` host) or a `localhost` one,
 * `db.transaction()` throws, and its adapter reports `supportsTransactionalDdl = false`.
 * Both packages are optional peers, loaded on first use.
 */
export async function createVercelDatabase<DB = Database>(
  url: string,
  options: VercelDatabaseOptions = {},
): Promise<Kysely<DB>> {
  const { createKysely } = await importDriver(
    'vercel driver',
    () => importAtRunTime<typeof import('@vercel/postgres-kysely')>(VERCEL_KYSELY),
    VERCEL_KYSELY,
    NEON,
  )
  if (options.neon) await configureNeon(options.neon)
  return createKysely<DB>({ connectionString: url, max: options.max ?? 10, log: guardIdleErrors() })
}

/**
 * A pool `log` function that guards the pool on its first call (see `guardConnectionErrors`): a
 * dropped connection (Neon suspending an idle compute, a pooler restart) would otherwise be an
 * uncaught exception that ends the process. `@vercel/postgres-kysely` makes its pool out of
 * sight and adds no listener; pg-pool calls `log` as a method of the pool, before it opens its
 * first client, which is the one way in.
 */
function guardIdleErrors(): (...messages: unknown[]) => void {
  let guarded = false
  return function (this: unknown) {
    if (guarded) return
    const pool = this as ConnectionErrorSource | undefined
    if (typeof pool?.on !== 'function') return
    guarded = true
    guardConnectionErrors(pool)
  }
}
