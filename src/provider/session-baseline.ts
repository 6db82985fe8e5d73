import { sql, type Kysely } from 'kysely'

import { literal } from './ledger.js'

/**
 * The session state a run started in, and the SQL that brings a session back to it. A file's
 * `SET`, `set_config(…, false)`, `SET ROLE`, `SET SESSION AUTHORIZATION` or `RESET ALL` would
 * otherwise outlive the file on the run's connection: the next file would run under it, and
 * so would the tool's own statements (ledgers, lock). The runner restores this state after
 * every file, in the same round trip as the file when the file is atomic.
 */
export interface SessionBaseline {
  /** `RESET ALL`, then every setting the session had changed by `SET` before the run, then its role. */
  readonly restoreSql: string
  /** The ledger, schema-qualified where it was found (e.g. `public.schema_versions`). */
  readonly ledgerTable: string
  /** Kysely's `kysely_migration`, schema-qualified where it was found. */
  readonly kyselyTable: string
}

/**
 * Reads the session's state and where `schema_versions` and `kysely_migration` live, in one
 * query: settings the session changed with `SET` (pg_settings' source `session`), its role and
 * its session user.
 * Settings given at connection start (URL `options`, role and database defaults) need no
 * record: `RESET ALL` goes back to them.
 *
 * @example
 * ```ts
 * const baseline = await readSessionBaseline(db)
 * await sql.raw(baseline.restoreSql).execute(db)
 * ```
 */
export async function readSessionBaseline(db: Kysely<any>): Promise<SessionBaseline> {
  type Row = { settings: [string, string][]; role: string; auth: string; ledger: string | null; kysely: string | null }
  const { rows } = await sql<Row>`
    select (select coalesce(json_agg(json_build_array(name, pg_catalog.current_setting(name)) order by name), '[]')
              from pg_catalog.pg_settings
             where source = 'session' and name not in ('role', 'session_authorization')) as settings,
           pg_catalog.current_setting('role') as role,
           pg_catalog.current_setting('session_authorization') as auth,
           (select pg_catalog.format('%I.%I', n.nspname, c.relname) from pg_catalog.pg_class c
              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where c.oid = pg_catalog.to_regclass('schema_versions')) as ledger,
           (select pg_catalog.format('%I.%I', n.nspname, c.relname) from pg_catalog.pg_class c
              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where c.oid = pg_catalog.to_regclass('kysely_migration')) as kysely`.execute(db)
  const row = rows[0]!
  return Object.freeze({
    restoreSql: restoreSql(row.settings, row.role, row.auth),
    ledgerTable: row.ledger ?? 'schema_versions',
    kyselyTable: row.kysely ?? 'kysely_migration',
  })
}

function restoreSql(settings: readonly [string, string][], role: string, auth: string): string {
  const parts = ['RESET ALL']
  if (settings.length) {
    const calls = settings.map(([name, value]) => `pg_catalog.set_config(${literal(name)}, ${literal(value)}, false)`)
    parts.push(`SELECT ${calls.join(', ')}`)
  }
  // Session authorization first: setting it also resets the role. Setting it to the
  // authenticated user is always allowed; to another user only for a superuser, who alone
  // could have changed it.
  // (PGlite reports both as '' when never set.)
  parts.push(auth === '' ? 'SET SESSION AUTHORIZATION DEFAULT' : `SET SESSION AUTHORIZATION ${quoteIdent(auth)}`)
  parts.push(role === 'none' || role === '' ? 'SET ROLE NONE' : `SET ROLE ${quoteIdent(role)}`)
  return parts.join(';\n')
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
