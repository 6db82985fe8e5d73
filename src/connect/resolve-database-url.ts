import { MigrationError } from '../errors/index.js'

/** Which setting chose the database. */
export type DatabaseUrlSource =
  | 'option'
  | 'POSTGRES_URL_NON_POOLING'
  | 'DATABASE_URL_UNPOOLED'
  | 'POSTGRES_URL'
  | 'POSTGRES_PRISMA_URL'
  | 'DATABASE_URL'
  | 'embedded'

// The connection a migration run will use; no url for the embedded database.
export interface ResolvedDatabaseUrl {
  readonly url?: string
  readonly source: DatabaseUrlSource
}

// Direct URLs first: a migrator's session is then a real server session (its lock, settings and failure stay with it).
export const DATABASE_URL_VARIABLES = [
  'POSTGRES_URL_NON_POOLING',
  'DATABASE_URL_UNPOOLED',
  'POSTGRES_URL',
  'POSTGRES_PRISMA_URL',
  'DATABASE_URL',
] as const

// For `@vercel/postgres`, which accepts pooled (or localhost) URLs only.
export const POOLED_FIRST_URL_VARIABLES = [
  'POSTGRES_URL',
  'POSTGRES_PRISMA_URL',
  'POSTGRES_URL_NON_POOLING',
  'DATABASE_URL',
  'DATABASE_URL_UNPOOLED',
] as const

// Variables set but empty (a missing CI secret) mean a server was intended: never the embedded database.
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

/** Why the process looks like a deployment, where the embedded database would be a throwaway copy. */
export function productionSignals(env: NodeJS.ProcessEnv = process.env): string[] {
  const signals: string[] = []
  if (env['NODE_ENV'] === 'production') signals.push('NODE_ENV=production')
  if (env['VERCEL_ENV']) signals.push(`VERCEL_ENV=${env['VERCEL_ENV']}`)
  if (env['VERCEL'] === '1') signals.push('VERCEL=1')
  return signals
}
