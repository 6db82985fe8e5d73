import { createHash } from 'node:crypto'

import { DEFAULT_LEDGER_SCHEMA, ledgerHome, SET_MARK } from './ledger-names.js'
import { toLedgerRow } from './ledger-row.js'
import { literal } from './sql-text.js'
import type { MigrationFileHead } from './migration-file.js'
import { planMigrations, type MigrationStatus } from './migration-plan.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

// The boot path's one query, digests compared on the server; undefined hands over to the planner. Not in a transaction.
export async function checkUpToDate(
  query: (text: string) => Promise<readonly unknown[]>,
  files: readonly MigrationFileHead[],
  schema?: string,
  withStatus = false,
): Promise<{ readonly currentVersion: number | null; readonly status?: MigrationStatus } | undefined> {
  const home = ledgerHome(schema ?? DEFAULT_LEDGER_SCHEMA)
  const ledgerTables = `from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                          where c.relname in ('schema_versions', 'kysely_migration') and c.relkind in ('r', 'p')
                            and n.nspname <> ${literal(home.schema)} and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`
  // The package's own ledgers may be anywhere: prove no unmarked one is elsewhere.
  const elsewhere =
    schema !== undefined
      ? ''
      : `and not exists (select ${ledgerTables}
                            and pg_catalog.obj_description(c.oid, 'pg_class') is distinct from ${literal(SET_MARK)})`
  const report = withStatus
    ? `, (select json_agg(to_jsonb(l) order by l.version) from ${home.ledger} l) as rows,
       array(select distinct n.nspname::text ${ledgerTables}
               and pg_catalog.obj_description(c.oid, 'pg_class') = ${literal(SET_MARK)} order by 1) as sets`
    : ''
  const byVersion = [...files].sort((a, b) => a.version - b.version)
  const ledger = digest(byVersion.map((f) => `${f.version}:${f.checksum}`))
  const names = digest(files.map((f) => f.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
  try {
    // Naming every bookkeeping column and the lock table sends an incomplete ledger to the planner (42P01, 42703).
    const rows = (await query(`
      with s as (select version, checksum, file_name, description, atomic, execution_ms, adopted_at from ${home.ledger})
      select encode(sha256(convert_to(coalesce((select string_agg(version::text || ':' || coalesce(checksum, ''), E'\\n' order by version) from s), ''), 'UTF8')), 'hex') = ${literal(ledger)}
         and encode(sha256(convert_to(coalesce((select string_agg(name, E'\\n' order by name collate "C") from ${home.kysely}), ''), 'UTF8')), 'hex') = ${literal(names)}
         and (select count(*) from ${home.lock}) > -1
         ${elsewhere} as ok,
             (select max(version) from s)::int as version${report}`)) as StateRow[]
    const row = rows[0]
    if (!row?.ok) return undefined
    if (!withStatus) return Object.freeze({ currentVersion: row.version })
    // The planner words the report; the digests above proved Kysely's names are the files'.
    const status = planMigrations(files, {
      home,
      complete: true,
      rows: (row.rows ?? []).map(toLedgerRow),
      kysely: files.map((f) => ({ name: f.name, timestamp: '' })),
      maxVersion: Number.MAX_SAFE_INTEGER,
      otherSets: row.sets ?? [],
    })
    return status.isUpToDate ? Object.freeze({ currentVersion: row.version, status }) : undefined
  } catch (error) {
    const code = errorCode(error)
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_COLUMN || code === '3F000') return undefined
    throw error
  }
}

type StateRow = { ok: boolean; version: number | null; rows?: Record<string, unknown>[] | null; sets?: string[] }

function digest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}
