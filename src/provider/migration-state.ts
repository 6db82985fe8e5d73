import { createHash } from 'node:crypto'

import { DEFAULT_LEDGER_SCHEMA, ledgerHome, SET_MARK } from './ledger-names.js'
import { literal } from './sql-text.js'
import type { MigrationFileHead } from './migration-file.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

// The boot path's one query: digests compared on the server. Undefined hands over to the planner.
// `query` runs one SQL text (Kysely's, or a bare pg client's). Not inside a transaction: a
// missing table fails the query, which would abort it.
export async function checkUpToDate(
  query: (text: string) => Promise<readonly unknown[]>,
  files: readonly MigrationFileHead[],
  schema?: string,
): Promise<{ readonly currentVersion: number | null } | undefined> {
  const home = ledgerHome(schema ?? DEFAULT_LEDGER_SCHEMA)
  // The package's own ledgers may be anywhere: prove no unmarked one is elsewhere.
  const elsewhere =
    schema !== undefined
      ? ''
      : `and not exists (select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                          where c.relname in ('schema_versions', 'kysely_migration') and c.relkind in ('r', 'p')
                            and n.nspname <> ${literal(home.schema)} and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
                            and pg_catalog.obj_description(c.oid, 'pg_class') is distinct from ${literal(SET_MARK)})`
  const byVersion = [...files].sort((a, b) => a.version - b.version)
  const ledger = digest(byVersion.map((f) => `${f.version}:${f.checksum}`))
  const names = digest(files.map((f) => f.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
  try {
    // Every bookkeeping column and Kysely's lock table are named, so that a ledger lacking one
    // fails here (42P01, 42703) and goes to the planner, which completes it.
    const rows = (await query(`
      with s as (select version, checksum, file_name, description, atomic, execution_ms, adopted_at from ${home.ledger})
      select encode(sha256(convert_to(coalesce((select string_agg(version::text || ':' || coalesce(checksum, ''), E'\\n' order by version) from s), ''), 'UTF8')), 'hex') = ${literal(ledger)}
         and encode(sha256(convert_to(coalesce((select string_agg(name, E'\\n' order by name collate "C") from ${home.kysely}), ''), 'UTF8')), 'hex') = ${literal(names)}
         and (select count(*) from ${home.lock}) > -1
         ${elsewhere} as ok,
             (select max(version) from s)::int as version`)) as { ok: boolean; version: number | null }[]
    const row = rows[0]
    return row?.ok ? Object.freeze({ currentVersion: row.version }) : undefined
  } catch (error) {
    const code = errorCode(error)
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_COLUMN || code === '3F000') return undefined
    throw error
  }
}

function digest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}
