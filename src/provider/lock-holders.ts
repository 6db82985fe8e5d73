import { sql, type Kysely } from 'kysely'

import { describeSession, type SessionSummary } from './session-summary.js'

export interface LockHolder extends SessionSummary {
  readonly relation: string
  readonly mode: string
}

// After a lock timeout the waiter is gone, so who was in the way is read from the granted locks.
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

// E.g. `"busy" is locked (AccessExclusiveLock) by backend pid 42 (…)`.
export function describeHolders(holders: readonly LockHolder[]): string | undefined {
  const first = holders[0]
  if (!first) return undefined
  const more = holders.length > 1 ? ` and ${holders.length - 1} more session${holders.length > 2 ? 's' : ''}` : ''
  return `${first.relation} is locked (${first.mode}) by ${describeSession(first)}${more}`
}
