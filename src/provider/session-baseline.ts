import { literal, quoteIdent } from './sql-text.js'

/**
 * The SQL that brings a session back to the state a run started in. A file's `SET`,
 * `set_config(…, false)`, `SET ROLE`, `SET SESSION AUTHORIZATION` or `RESET ALL` would otherwise
 * outlive the file on the run's connection: the next file would run under it, and so would the
 * tool's own statements. Settings given at connection start need no record: `RESET ALL` goes
 * back to them. The state itself is read with the ledgers (see `readLedgerSnapshot`).
 */
export function sessionRestoreSql(settings: readonly [string, string][], role: string, auth: string): string {
  const parts = ['RESET ALL']
  if (settings.length) {
    const calls = settings.map(([name, value]) => `pg_catalog.set_config(${literal(name)}, ${literal(value)}, false)`)
    parts.push(`SELECT ${calls.join(', ')}`)
  }
  // Session authorization first: setting it also resets the role. (PGlite reports both as ''
  // when never set.)
  parts.push(auth === '' ? 'SET SESSION AUTHORIZATION DEFAULT' : `SET SESSION AUTHORIZATION ${quoteIdent(auth)}`)
  parts.push(role === 'none' || role === '' ? 'SET ROLE NONE' : `SET ROLE ${quoteIdent(role)}`)
  return parts.join(';\n')
}

/** The settings a session changed with `SET`, its role and session user, as one SQL expression each. */
export const SESSION_STATE_COLUMNS = `(select coalesce(json_agg(json_build_array(name, pg_catalog.current_setting(name)) order by name), '[]')
              from pg_catalog.pg_settings
             where source = 'session' and name not in ('role', 'session_authorization')) as settings,
           pg_catalog.current_setting('role') as role,
           pg_catalog.current_setting('session_authorization') as auth`
