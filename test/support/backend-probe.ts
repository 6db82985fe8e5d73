import { sql, type Kysely } from 'kysely'

/** A backend of the current database, as pg_stat_activity shows it. */
export interface Backend {
  readonly pid: number
  readonly state: string | null
  readonly waitEvent: string | null
  readonly query: string
}

/** The backends of this database whose application_name is `app`. */
export async function backendsOf(db: Kysely<unknown>, app: string): Promise<Backend[]> {
  const { rows } = await sql<Backend>`
    select pid, state, wait_event as "waitEvent", query from pg_stat_activity
    where datname = current_database() and application_name = ${app}`.execute(db)
  return rows
}

/**
 * Polls until a backend of `app` matches `predicate` (e.g. is inside a given pg_sleep), and
 * returns it; throws after `timeoutMs`.
 */
export async function waitForBackend(
  db: Kysely<unknown>,
  app: string,
  predicate: (b: Backend) => boolean,
  timeoutMs = 30_000,
): Promise<Backend> {
  const started = Date.now()
  for (;;) {
    const found = (await backendsOf(db, app)).find(predicate)
    if (found) return found
    if (Date.now() - started > timeoutMs) throw new Error(`no backend of ${app} matched within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** pg_terminate_backend, as an administrator would (or a failover, or an idle-connection reaper). */
export async function terminate(db: Kysely<unknown>, pid: number): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`select pg_terminate_backend(${pid}) as ok`.execute(db)
  return rows[0]!.ok
}

/** `url` with an application_name, so a test can find the runner's backends. */
export function withApplicationName(url: string, app: string): string {
  const u = new URL(url)
  u.searchParams.set('application_name', app)
  return u.toString()
}

/** Waits until none of these backends exists any more (a terminated backend exits promptly). */
export async function waitForPidsGone(db: Kysely<unknown>, pids: readonly number[], timeoutMs = 30_000): Promise<void> {
  const started = Date.now()
  for (;;) {
    const { rows } = await sql<{
      n: number
    }>`select count(*)::int as n from pg_stat_activity where pid = any(${sql.val([...pids])}::int[])`.execute(db)
    if (rows[0]!.n === 0) return
    if (Date.now() - started > timeoutMs)
      throw new Error(`backends ${pids.join(', ')} still alive after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
