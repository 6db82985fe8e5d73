// PgBouncer's and Supabase's: a false positive costs one connection, a false negative can strand a lock.
const POOLER_PORTS: readonly number[] = [6432, 6543]

/** Options of {@link isPooledUrl}. */
export interface PooledUrlOptions {
  /** What you know about the URL, overriding detection (e.g. your own PgBouncer on port 5432). */
  readonly pooled?: boolean | undefined
}

/**
 * Whether a URL goes through a transaction-mode pooler, where a session lock can outlive its
 * migrator: a host label `pooler` or `…-pooler` (Supabase, Neon, Vercel), `pgbouncer=true`
 * (Prisma), or port 6432 or 6543. `options.pooled` overrides it.
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
