import { MigrationError } from '../errors/index.js'

/** Where the runner's connection came from, for messages (never the URL's password). */
export type DatabaseUrlSource =
  | 'option'
  | 'POSTGRES_URL_NON_POOLING'
  | 'DATABASE_URL_UNPOOLED'
  | 'POSTGRES_URL'
  | 'POSTGRES_PRISMA_URL'
  | 'DATABASE_URL'
  | 'embedded'

/** The connection a migration run will use. */
export interface ResolvedDatabaseUrl {
  /** Undefined for the embedded database. */
  readonly url?: string
  readonly source: DatabaseUrlSource
}

/**
 * Environment variables read, in order of preference: migrations prefer a direct connection,
 * so the two direct URLs come first. Vercel Postgres sets the three `POSTGRES_*` ones; Neon's
 * integration sets `DATABASE_URL` (pooled) and `DATABASE_URL_UNPOOLED` (direct); `DATABASE_URL`
 * is also the common convention of Prisma and most hosts.
 */
export const DATABASE_URL_VARIABLES = [
  'POSTGRES_URL_NON_POOLING',
  'DATABASE_URL_UNPOOLED',
  'POSTGRES_URL',
  'POSTGRES_PRISMA_URL',
  'DATABASE_URL',
] as const

/**
 * The order for `@vercel/postgres`, which accepts pooled URLs only (or `localhost` ones): its
 * own variable first, the direct URL last.
 */
export const POOLED_FIRST_URL_VARIABLES = [
  'POSTGRES_URL',
  'POSTGRES_PRISMA_URL',
  'POSTGRES_URL_NON_POOLING',
  'DATABASE_URL',
  'DATABASE_URL_UNPOOLED',
] as const

/**
 * Picks the database for migrations: an explicit URL, else the first non-empty one of
 * `POSTGRES_URL_NON_POOLING`, `DATABASE_URL_UNPOOLED`, `POSTGRES_URL`, `POSTGRES_PRISMA_URL`,
 * `DATABASE_URL` (or another
 * `order`), else the embedded database.
 * A direct connection comes first because a migrator's session is then a real server
 * session: its lock, its settings and its failure all stay with it.
 *
 * Only when no URL variable is set at all is the embedded database chosen: an empty (or blank)
 * `url`, or URL variables that are all set but empty (a CI secret that is missing, a `.env`
 * placeholder), mean a server was intended, and throw `NO_DATABASE_URL` instead.
 */
export function resolveDatabaseUrl(
  url: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  order: readonly (typeof DATABASE_URL_VARIABLES)[number][] = DATABASE_URL_VARIABLES,
): ResolvedDatabaseUrl {
  if (url !== undefined && !url.trim()) throw new MigrationError('NO_DATABASE_URL', 'the url option is empty')
  if (url) return Object.freeze({ url, source: 'option' as const })
  for (const name of order) {
    const value = env[name]
    if (value?.trim()) return Object.freeze({ url: value, source: name })
  }
  const empty = order.filter((name) => env[name] !== undefined)
  if (empty.length)
    throw new MigrationError(
      'NO_DATABASE_URL',
      `${empty.join(', ')} ${empty.length > 1 ? 'are' : 'is'} set but empty, so no server can be reached; the ` +
        'embedded database is used only when none is set (or when asked for: embedded: true, wukong-migrate --embedded)',
    )
  return Object.freeze({ source: 'embedded' as const })
}

/**
 * Why the process looks like a deployment, where falling back to the embedded database would
 * migrate a throwaway copy and report success: `NODE_ENV=production`, `VERCEL_ENV` set (any
 * Vercel environment, preview included), or `VERCEL=1`. Empty when none applies.
 */
export function productionSignals(env: NodeJS.ProcessEnv = process.env): string[] {
  const signals: string[] = []
  if (env['NODE_ENV'] === 'production') signals.push('NODE_ENV=production')
  if (env['VERCEL_ENV']) signals.push(`VERCEL_ENV=${env['VERCEL_ENV']}`)
  if (env['VERCEL'] === '1') signals.push('VERCEL=1')
  return signals
}
