/** Another session, as `pg_stat_activity` shows it. */
export interface SessionSummary {
  readonly pid: number
  readonly state: string | null
  readonly applicationName: string | null
  /** Its current or last query; shown only through {@link describeSession}. */
  readonly query: string | null
}

const QUERY_SHOWN = 120

/**
 * One line naming another session for an error message: pid, `application_name`, state and
 * the start of its query with every string literal and number blanked, so that a password
 * or data in the query (`ALTER ROLE … PASSWORD '…'`) is never printed.
 */
export function describeSession(session: SessionSummary): string {
  const parts: string[] = []
  if (session.applicationName) parts.push(`application_name "${session.applicationName}"`)
  if (session.state) parts.push(session.state)
  if (session.query) parts.push(`query: ${blankLiterals(session.query)}`)
  return `backend pid ${session.pid}${parts.length ? ` (${parts.join(', ')})` : ''}`
}

function blankLiterals(query: string): string {
  const blanked = query
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?(\$\1\$|$)/g, '$…$')
    .replace(/[EeBbXxUu]?&?'(?:[^']|'')*('|$)/g, "'…'")
    .replace(/\b\d+(\.\d+)?\b/g, '…')
    .replace(/\s+/g, ' ')
    .trim()
  return blanked.length > QUERY_SHOWN ? `${blanked.slice(0, QUERY_SHOWN)}…` : blanked
}
