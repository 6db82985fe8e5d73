export interface SessionSummary {
  readonly pid: number
  readonly state: string | null
  readonly applicationName: string | null
  // Shown only through describeSession, which blanks its literals.
  readonly query: string | null
}

const QUERY_SHOWN = 120

// Literals and numbers blanked: a password (`ALTER ROLE … PASSWORD '…'`) is never printed.
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
