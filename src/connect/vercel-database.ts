import { existsSync, readFileSync } from 'node:fs'
// Aliased: apps that bundle to ESM with esbuild often add a banner that declares `createRequire`.
import { createRequire as requireFrom } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

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
 * Applies {@link NeonSettings} to the `neonConfig` of the `@neondatabase/serverless` that
 * `@vercel/postgres` loads, which is not always the app's: `@vercel/postgres` 0.10 asks for
 * Neon 0.9, so an app on Neon 1.x has two copies, each with its own settings. They are
 * process-wide: `@vercel/postgres` creates its clients itself, so per-client settings cannot
 * reach them. Loads both packages on first use.
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
    () => importAtRunTime<typeof import('@neondatabase/serverless')>(neonOfVercelPostgres()),
    VERCEL_KYSELY,
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
 * serverless driver) instead of TCP. As that
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

/**
 * The file URL of the `@neondatabase/serverless` ES module that `@vercel/postgres` imports
 * (found where Node looks for it from `@vercel/postgres`'s folder), else the bare name.
 */
function neonOfVercelPostgres(): string {
  // Not `createRequire(import.meta.url)` verbatim: bundlers rewrite that pattern.
  const here: string = import.meta.url
  const fromHere = requireFrom(here)
  let vercelPostgres: string
  try {
    vercelPostgres = requireFrom(fromHere.resolve(VERCEL_KYSELY)).resolve('@vercel/postgres')
  } catch {
    return NEON
  }
  for (const folder of requireFrom(vercelPostgres).resolve.paths(NEON) ?? []) {
    const root = join(folder, NEON)
    if (!existsSync(join(root, 'package.json'))) continue
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as NeonManifest
    const entry = esmEntry(manifest)
    return entry ? pathToFileURL(join(root, entry)).href : NEON
  }
  return NEON
}

interface NeonManifest {
  readonly exports?: unknown
  readonly module?: string
}

// Neon 0.9 and 1.x both publish `"exports": { "import": "./index.mjs", "require": … }`.
function esmEntry(manifest: NeonManifest): string | undefined {
  let target: unknown = manifest.exports
  if (target && typeof target === 'object' && '.' in target) target = (target as Record<string, unknown>)['.']
  for (const condition of ['import', 'node', 'default']) {
    if (typeof target === 'string') break
    if (target && typeof target === 'object' && condition in target) {
      target = (target as Record<string, unknown>)[condition]
    }
  }
  return typeof target === 'string' ? target : manifest.module
}
