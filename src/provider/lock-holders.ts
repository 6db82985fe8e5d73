import { sql, type Kysely } from 'kysely'

import { describeSession, type SessionSummary } from './session-summary.js'

/** A session holding a lock on a table, as {@link lockHolders} finds it. */
export interface LockHolder extends SessionSummary {
  /** The table, as the file or the tool named it. */
  readonly relation: string
  /** PostgreSQL's lock mode, e.g. `AccessExclusiveLock`. */
  readonly mode: string
}

/**
 * Other sessions that hold a granted lock on any of `relations` (names as written in SQL,
 * optionally schema-qualified), strongest lock first. Used after a lock timeout to say who
 * was in the way: by then the waiter is gone, so the holders are read from `pg_locks`.
 */
export async function lockHolders(db: Kysely<any>, relations: readonly string[]): Promise<LockHolder[]> {
  if (relations.length === 0) return []
  const { rows } = await sql<LockHolder>`
    with wanted as (
      select r as relation, to_regclass(r) as oid from unnest(${sql.val([...relations])}::text[]) r
    )
    select l.pid, a.state, a.application_name as "applicationName", a.query, w.relation, l.mode
    from pg_locks l
    join wanted w on w.oid = l.relation
    left join pg_stat_activity a on a.pid = l.pid
    where l.granted and l.pid <> pg_backend_pid()
      and l.database = (select oid from pg_database where datname = current_database())
    order by case l.mode when 'AccessExclusiveLock' then 0 when 'ExclusiveLock' then 1 else 2 end, l.pid
    limit 5`.execute(db)
  return rows
}

/** One phrase naming the first holder: `"busy" is locked (AccessExclusiveLock) by backend pid 42 (…)`. */
export function describeHolders(holders: readonly LockHolder[]): string | undefined {
  const first = holders[0]
  if (!first) return undefined
  const more = holders.length > 1 ? ` and ${holders.length - 1} more session${holders.length > 2 ? 's' : ''}` : ''
  return `${first.relation} is locked (${first.mode}) by ${describeSession(first)}${more}`
}
