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

/** Settings of `@neondatabase/serverless` (under `@vercel/postgres`), e.g. to reach a local server through a WebSocket proxy. */
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
 * Applies {@link NeonSettings}, process-wide, to the copy of `@neondatabase/serverless` that
 * `@vercel/postgres` loads (an app on Neon 1.x has a second copy of its own).
 *
 * @example
 * ```ts
 * await configureNeon({ wsProxy: (host, port) => `localhost:8080/v2?address=${host}:${port}`,
 *   useSecureWebSocket: false, pipelineConnect: false, pipelineTLS: false })
 * ```
 */
export async function configureNeon(settings: NeonSettings): Promise<void> {
  const { neonConfig } = await importVercel<typeof import('@neondatabase/serverless')>(neonOfVercelPostgres)
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined) (neonConfig as unknown as Record<string, unknown>)[name] = value
  }
}

// Its URL must be pooled or localhost, and it has no transactions (`supportsTransactionalDdl` false).
export async function createVercelDatabase<DB = Database>(
  url: string,
  options: { readonly neon?: NeonSettings | undefined; readonly max?: number | undefined } = {},
): Promise<Kysely<DB>> {
  const { createKysely } = await importVercel<typeof import('@vercel/postgres-kysely')>(() => VERCEL_KYSELY)
  if (options.neon) await configureNeon(options.neon)
  return createKysely<DB>({ connectionString: url, max: options.max ?? 10, log: guardIdleErrors() })
}

// The one way to guard the pool `@vercel/postgres-kysely` hides: pg-pool calls `log` on it before its first client.
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

function importVercel<T>(specifier: () => string): Promise<T> {
  return importDriver('vercel driver', () => importAtRunTime<T>(specifier()), VERCEL_KYSELY, NEON)
}

// The file URL of the `@neondatabase/serverless` module `@vercel/postgres` imports, else the bare name.
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
    const entry = esmEntry(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')))
    return entry ? pathToFileURL(join(root, entry)).href : NEON
  }
  return NEON
}

// Neon 0.9 and 1.x both publish `"exports": { "import": "./index.mjs", "require": … }`.
function esmEntry(manifest: { exports?: unknown; module?: string }): string | undefined {
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
