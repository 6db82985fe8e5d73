import { literal, quoteIdent } from './sql-text.js'

// A file's SET, SET ROLE or RESET ALL would otherwise outlive it on the run's connection, and
// the next file and the tool's own statements would run under it.
export function sessionRestoreSql(settings: readonly [string, string][], role: string, auth: string): string {
  const parts = ['RESET ALL']
  if (settings.length) {
    const calls = settings.map(([name, value]) => `pg_catalog.set_config(${literal(name)}, ${literal(value)}, false)`)
    parts.push(`SELECT ${calls.join(', ')}`)
  }
  // Authorization first: setting it also resets the role. (PGlite reports both as '' when never set.)
  parts.push(auth === '' ? 'SET SESSION AUTHORIZATION DEFAULT' : `SET SESSION AUTHORIZATION ${quoteIdent(auth)}`)
  parts.push(role === 'none' || role === '' ? 'SET ROLE NONE' : `SET ROLE ${quoteIdent(role)}`)
  return parts.join(';\n')
}

// Read with the ledgers (readLedgerSnapshot), so no round trip of its own.
export const SESSION_STATE_COLUMNS = `(select coalesce(json_agg(json_build_array(name, pg_catalog.current_setting(name)) order by name), '[]')
              from pg_catalog.pg_settings
             where source = 'session' and name not in ('role', 'session_authorization')) as settings,
           pg_catalog.current_setting('role') as role,
           pg_catalog.current_setting('session_authorization') as auth`
