/**
 * Ports that, by convention, serve a transaction-mode pooler: PgBouncer's default (6432) and
 * Supabase's transaction pooler (6543). A false positive only costs the migrator one extra
 * connection (see {@link isPooledUrl}); a false negative can strand a lock, so err this way.
 */
export const POOLER_PORTS: readonly number[] = Object.freeze([6432, 6543])

/** Options of {@link isPooledUrl}. */
export interface PooledUrlOptions {
  /** What you know about the URL, overriding detection (e.g. your own PgBouncer on port 5432). */
  readonly pooled?: boolean | undefined
}

/**
 * Whether a PostgreSQL URL goes through a transaction-mode connection pooler (PgBouncer and
 * the like), where consecutive statements of one client may run on different server sessions
 * and a session advisory lock can outlive the migrator that took it.
 *
 * Detected: a host label ending in `-pooler` (Neon, Vercel Postgres: `ep-x-pooler.region…`)
 * or equal to `pooler` (Supabase: `aws-0-….pooler.supabase.com`), a `pgbouncer=true` query
 * parameter (Prisma's convention, set in `POSTGRES_PRISMA_URL`), or one of
 * {@link POOLER_PORTS}. `options.pooled` overrides all of it.
 *
 * @example
 * ```ts
 * isPooledUrl('postgres://u:p@ep-cool-1-pooler.us-east-1.aws.neon.tech/db') // true
 * isPooledUrl('postgres://u:p@ep-cool-1.us-east-1.aws.neon.tech/db')        // false
 * isPooledUrl('postgres://u@127.0.0.1:5432/db', { pooled: true })          // true
 * ```
 */
export function isPooledUrl(url: string | undefined, options: PooledUrlOptions = {}): boolean {
  if (options.pooled !== undefined) return options.pooled
  if (!url) return false
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  const labels = parsed.hostname.toLowerCase().split('.')
  if (labels.some((label) => label === 'pooler' || label.endsWith('-pooler'))) return true
  if (parsed.searchParams.get('pgbouncer')?.toLowerCase() === 'true') return true
  return parsed.port !== '' && POOLER_PORTS.includes(Number(parsed.port))
}
