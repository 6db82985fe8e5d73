/** Where the runner's connection came from, for messages (never the URL's password). */
export type DatabaseUrlSource =
  | 'option'
  | 'POSTGRES_URL_NON_POOLING'
  | 'POSTGRES_URL'
  | 'POSTGRES_PRISMA_URL'
  | 'embedded'

/** The connection a migration run will use. */
export interface ResolvedDatabaseUrl {
  /** Undefined for the embedded database. */
  readonly url?: string
  readonly source: DatabaseUrlSource
}

/** Environment variables read, in order of preference: migrations prefer a direct connection. */
export const DATABASE_URL_VARIABLES = ['POSTGRES_URL_NON_POOLING', 'POSTGRES_URL', 'POSTGRES_PRISMA_URL'] as const

/**
 * Picks the database for migrations: an explicit URL, else `POSTGRES_URL_NON_POOLING`,
 * `POSTGRES_URL`, `POSTGRES_PRISMA_URL`, else the embedded database.
 *
 * @example
 * ```ts
 * resolveDatabaseUrl(undefined, { POSTGRES_URL: 'postgres://…' }).source // 'POSTGRES_URL'
 * ```
 */
export function resolveDatabaseUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedDatabaseUrl {
  if (url) return Object.freeze({ url, source: 'option' as const })
  for (const name of DATABASE_URL_VARIABLES) {
    const value = env[name]
    if (value) return Object.freeze({ url: value, source: name })
  }
  return Object.freeze({ source: 'embedded' as const })
}
