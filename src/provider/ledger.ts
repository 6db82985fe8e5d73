import { createHash } from 'node:crypto'

import { sql, type Kysely } from 'kysely'
import { MIGRATION_LOCK_ID } from 'kysely/migration'

import { MigrationError } from '../errors/migration-error.js'
import { SQLSTATE } from '../errors/sql-state.js'
import { DEFAULT_LEDGER_SCHEMA, type LedgerHome, ledgerHome, SET_MARK } from './ledger-names.js'
import { literal, quoteIdent } from './sql-text.js'
import { toLedgerRow, type LedgerRow } from './ledger-row.js'

export type { LedgerRow } from './ledger-row.js'
export { DEFAULT_LEDGER_SCHEMA, LEDGER_TABLES, type LedgerHome, ledgerHome, SET_MARK } from './ledger-names.js'

/** Runs one SQL text on a Kysely instance and returns its rows (for code that needs no query builder). */
export function rawQuery(db: Kysely<any>): (text: string) => Promise<readonly unknown[]> {
  return async (text) => (await sql.raw(text).execute(db)).rows
}

export interface KyselyRow {
  readonly name: string
  readonly timestamp: string
}

/** Both ledgers as one run sees them, read under the migration lock or for a report. */
export interface LedgerSnapshot {
  readonly home: LedgerHome
  /** False when `schema_versions` lacks a bookkeeping column or Kysely's tables are missing. */
  readonly complete: boolean
  readonly rows: readonly LedgerRow[]
  readonly kysely: readonly KyselyRow[]
  /** The largest version the ledger's `version` column can hold. */
  readonly maxVersion: number
  /** Brings the reading session back to the state it had when the snapshot was read. */
  readonly restoreSql: string
  /** What stops this ledger from being used as it is, found before anything runs. */
  readonly shapeProblem?: string | undefined
  /** The schemas of the other migration sets' ledgers on this database. */
  readonly otherSets: readonly string[]
  /** The server process of the reading session (`pg_backend_pid()`), e.g. to cancel its statement. */
  readonly backendPid: number
}

/** One run's view of both ledgers, read under the migration lock and kept current as files commit. */
export interface RunLedger {
  readonly rows: Map<number, LedgerRow>
  /** Kysely's recorded names; undefined under Kysely's Migrator, which writes its own rows. */
  readonly kysely: Set<string> | undefined
  readonly home: LedgerHome
  readonly restoreSql: string
}

export function runLedger(snapshot: LedgerSnapshot, trackKysely: boolean): RunLedger {
  return {
    rows: new Map(snapshot.rows.map((r) => [r.version, r])),
    kysely: trackKysely ? new Set(snapshot.kysely.map((k) => k.name)) : undefined,
    home: snapshot.home,
    restoreSql: snapshot.restoreSql,
  }
}

const BOOKKEEPING_COLUMNS = ['checksum', 'file_name', 'execution_ms', 'adopted_at', 'atomic'] as const
const INT_MAX: Readonly<Record<string, number>> = {
  smallint: 32_767,
  integer: 2_147_483_647,
  bigint: Number.MAX_SAFE_INTEGER,
}

// Kysely's tables as its Migrator makes them; deployed code reads schema_versions' first three columns: never changed.
export function ensureLedgersSql(home: LedgerHome, set = false): string {
  const mark = set ? `;\nCOMMENT ON TABLE ${home.ledger} IS '${SET_MARK}'` : ''
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(home.schema)};
CREATE TABLE IF NOT EXISTS ${home.kysely} (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL);
CREATE TABLE IF NOT EXISTS ${home.lock} (id varchar(255) NOT NULL PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
INSERT INTO ${home.lock} (id, is_locked) VALUES ('${MIGRATION_LOCK_ID}', 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${home.ledger} (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz DEFAULT now()
);
ALTER TABLE ${home.ledger}
  ADD COLUMN IF NOT EXISTS checksum text,
  ADD COLUMN IF NOT EXISTS file_name text,
  ADD COLUMN IF NOT EXISTS execution_ms integer,
  ADD COLUMN IF NOT EXISTS adopted_at timestamptz,
  ADD COLUMN IF NOT EXISTS atomic boolean;
COMMENT ON COLUMN ${home.ledger}.checksum IS 'SHA-256 of the file text (UTF-8, LF, no BOM); NULL: written by the old runner, not yet adopted'${mark}`
}

interface TableRow {
  schema: string
  name: string
  columns: string[]
  version_type: string | null
  description_type: string | null
  version_unique: boolean
  set: boolean
}

type CatalogRow = { tables: TableRow[]; settings: [string, string][]; role: string; auth: string; pid: number }

// The ledgers' home is the schema that holds them, else `schema`, never search_path; `bounded` wraps the rows' read.
export async function readLedgerSnapshot(
  db: Kysely<any>,
  schema?: string,
  bounded: <T>(read: (db: Kysely<any>) => Promise<T>) => Promise<T> = (read) => read(db),
): Promise<LedgerSnapshot> {
  const { rows: first } = await sql<CatalogRow>`
    select (select coalesce(json_agg(t order by t.schema, t.name), '[]') from (
      select n.nspname as schema, c.relname as name,
             array(select a.attname::text from pg_catalog.pg_attribute a
                    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
             (select pg_catalog.format_type(a.atttypid, null) from pg_catalog.pg_attribute a
               where a.attrelid = c.oid and a.attname = 'version' and not a.attisdropped) as version_type,
             (select pg_catalog.format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute a
               where a.attrelid = c.oid and a.attname = 'description' and not a.attisdropped) as description_type,
             exists (select from pg_catalog.pg_index i join pg_catalog.pg_attribute a
                       on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                      where i.indrelid = c.oid and i.indisunique and i.indnatts = 1 and a.attname = 'version') as version_unique,
             coalesce(pg_catalog.obj_description(c.oid, 'pg_class') = ${SET_MARK}, false) as set
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where c.relname in ('schema_versions', 'kysely_migration', 'kysely_migration_lock')
         and c.relkind in ('r', 'p') and n.nspname <> 'information_schema' and n.nspname !~ '^pg_') t) as tables,
           (select coalesce(json_agg(json_build_array(name, pg_catalog.current_setting(name)) order by name), '[]')
              from pg_catalog.pg_settings where source = 'session' and name not in ('role', 'session_authorization')) as settings,
           pg_catalog.current_setting('role') as role, pg_catalog.current_setting('session_authorization') as auth,
           pg_catalog.pg_backend_pid() as pid`.execute(db)
  const { tables, settings, role, auth, pid: backendPid } = first[0]!
  const restoreSql = sessionRestoreSql(settings, role, auth)
  // A migration set's ledger (marked) belongs to that set alone; the package's are the unmarked ones.
  const ledgers = tables.filter((t) => t.name !== 'kysely_migration_lock')
  const sets = new Set(tables.filter((t) => t.set).map((t) => t.schema))
  const homes =
    schema !== undefined ? [schema] : [...new Set(ledgers.filter((t) => !sets.has(t.schema)).map((t) => t.schema))]
  if (homes.length > 1) {
    const found = ledgers
      .filter((t) => !sets.has(t.schema))
      .map((t) => `${t.schema}.${t.name}`)
      .join(', ')
    const reason = `migration ledgers exist in more than one schema (${found}); keep the ones in the schema this database was migrated in and drop the others`
    throw new MigrationError('AMBIGUOUS_LEDGER', reason)
  }
  const home = ledgerHome(homes[0] ?? DEFAULT_LEDGER_SCHEMA)
  const otherSets = [...sets].filter((s) => s !== home.schema)
  const own = (name: string) => tables.find((t) => t.schema === home.schema && t.name === name)
  const ledger = own('schema_versions')
  const kysely = own('kysely_migration')
  const complete =
    ledger !== undefined &&
    kysely !== undefined &&
    own('kysely_migration_lock') !== undefined &&
    BOOKKEEPING_COLUMNS.every((c) => ledger.columns.includes(c))
  const maxVersion = ledger ? (INT_MAX[ledger.version_type ?? ''] ?? 0) : INT_MAX['integer']!
  const shapeProblem = !ledger
    ? undefined
    : maxVersion === 0
      ? `its version column is ${ledger.version_type ?? 'missing'}, not an integer type`
      : !ledger.description_type
        ? 'it has no description column'
        : !ledger.version_unique
          ? 'its version column has no primary key or unique index (two migrators could record one version twice)'
          : undefined
  const parts: string[] = []
  if (ledger && !shapeProblem)
    parts.push(`select to_jsonb(s) as row, null::text as name, null::text as timestamp from ${home.ledger} s`)
  if (kysely) parts.push(`select null, name::text, timestamp::text from ${home.kysely}`)
  type Row = { row: Record<string, unknown> | null; name: string | null; timestamp: string | null }
  const { rows } = parts.length
    ? await bounded((c) => sql<Row>`${sql.raw(parts.join(' union all '))}`.execute(c))
    : { rows: [] as Row[] }
  const ledgerRows = rows
    .filter((r) => r.row)
    .map((r) => toLedgerRow(r.row!))
    .sort((a, b) => a.version - b.version)
  const kyselyRows = rows.filter((r) => !r.row).map((r) => Object.freeze({ name: r.name!, timestamp: r.timestamp! }))
  return Object.freeze({
    home,
    complete,
    rows: ledgerRows,
    kysely: kyselyRows,
    maxVersion,
    restoreSql,
    otherSets,
    backendPid,
    shapeProblem: shapeProblem && `${home.ledger} cannot be used as the ledger: ${shapeProblem}`,
  })
}

// Raises LEDGER_INTEGRITY unless the ledgers hold exactly this view: a file's write no parse can see.
export function ledgerIntegritySql({ home, rows, kysely: names }: Omit<RunLedger, 'restoreSql'>): string {
  const ledger = [...rows.values()]
    .sort((a, b) => a.version - b.version)
    .map((r) => `${r.version}:${r.checksum ?? ''}`)
    .join(',')
  const digestOf = (expression: string, text: string): string =>
    `pg_catalog.md5(coalesce(${expression}, '')) <> ${literal(createHash('md5').update(text, 'utf8').digest('hex'))}`
  const checks = [
    digestOf(
      `(select pg_catalog.string_agg(version::text || ':' || coalesce(checksum, ''), ',' order by version) from ${home.ledger})`,
      ledger,
    ),
  ]
  if (names) {
    const kysely = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(',')
    checks.push(
      digestOf(`(select pg_catalog.string_agg(name::text, ',' order by name collate "C") from ${home.kysely})`, kysely),
    )
  }
  return `DO $wukong$ BEGIN IF ${checks.join(' OR ')} THEN RAISE EXCEPTION USING ERRCODE = '${SQLSTATE.LEDGER_INTEGRITY}', MESSAGE = 'the migration ledgers changed while the file ran: it wrote to schema_versions or kysely_migration (SQL the parser cannot see, e.g. built at run time); the file was rolled back'; END IF; END $wukong$`
}

// A file's SET, SET ROLE or RESET ALL would otherwise outlive it on the run's connection.
function sessionRestoreSql(settings: readonly [string, string][], role: string, auth: string): string {
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
