import { sql, type Kysely } from 'kysely'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

/**
 * The `schema_versions` ledger: one row per applied file, committed in the same transaction
 * as the file's SQL. The three columns deployed code reads (`version`, `description`,
 * `applied_at`) are never renamed or dropped; the bookkeeping columns are added idempotently.
 */
export const LEDGER_TABLE = 'schema_versions'

/** A row of the ledger as the provider reads it. */
export interface LedgerRow {
  readonly version: number
  readonly description: string
  readonly appliedAt: Date | null
  /** Null for rows the old runner wrote and nobody has adopted yet. */
  readonly checksum: string | null
  readonly fileName: string | null
  readonly executionMs: number | null
  readonly adoptedAt: Date | null
  readonly atomic: boolean | null
}

const BOOKKEEPING_COLUMNS = ['checksum', 'file_name', 'execution_ms', 'adopted_at', 'atomic'] as const

const ENSURE_LEDGER_SQL = `
CREATE TABLE IF NOT EXISTS schema_versions (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz DEFAULT now()
);
ALTER TABLE schema_versions
  ADD COLUMN IF NOT EXISTS checksum text,
  ADD COLUMN IF NOT EXISTS file_name text,
  ADD COLUMN IF NOT EXISTS execution_ms integer,
  ADD COLUMN IF NOT EXISTS adopted_at timestamptz,
  ADD COLUMN IF NOT EXISTS atomic boolean;
COMMENT ON COLUMN schema_versions.checksum IS 'SHA-256 of the file text (UTF-8, LF, no BOM); NULL: written by the old runner, not yet adopted';
`

/**
 * Makes sure the ledger exists with its bookkeeping columns and returns its rows, under the
 * migration lock. Usually one query; one more (idempotent DDL) on a database that has no
 * ledger yet or one the old runner made.
 *
 * @example
 * ```ts
 * const rows = await ensureAndReadLedger(db)
 * ```
 */
export async function ensureAndReadLedger(db: Kysely<any>): Promise<LedgerRow[]> {
  // Outside a transaction a failed query costs nothing, so try the one-query read first;
  // inside one it would abort the transaction, so ask the catalog first.
  if (!db.isTransaction) {
    try {
      return await readEnsured(db)
    } catch (error) {
      if (errorCode(error) !== SQLSTATE.UNDEFINED_TABLE && !(error instanceof LedgerColumnsMissing)) throw error
    }
  } else {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_attribute
      where attrelid = to_regclass(${LEDGER_TABLE}) and not attisdropped
        and attname = any(${sql.val([...BOOKKEEPING_COLUMNS])}::text[])`.execute(db)
    if (rows[0]?.n === BOOKKEEPING_COLUMNS.length) return readEnsured(db)
  }
  await sql.raw(ENSURE_LEDGER_SQL).execute(db)
  return readEnsured(db)
}

class LedgerColumnsMissing extends Error {}

async function readEnsured(db: Kysely<unknown>): Promise<LedgerRow[]> {
  const { rows } = await sql<{ n: number; rows: Record<string, unknown>[] }>`
    select (select count(*)::int from pg_attribute
            where attrelid = ${LEDGER_TABLE}::regclass and not attisdropped
              and attname = any(${sql.val([...BOOKKEEPING_COLUMNS])}::text[])) as n,
           (select coalesce(json_agg(to_jsonb(s) order by version), '[]') from schema_versions s) as rows`.execute(db)
  if (rows[0]?.n !== BOOKKEEPING_COLUMNS.length) throw new LedgerColumnsMissing()
  return rows[0].rows.map(toLedgerRow)
}

/**
 * The DDL that creates the ledger or adds its bookkeeping columns (idempotent).
 *
 * @example
 * ```ts
 * await sql.raw(ensureLedgerSql()).execute(db)
 * ```
 */
export function ensureLedgerSql(): string {
  return ENSURE_LEDGER_SQL
}

/**
 * Reads the whole ledger, ordered by version: `[]` when it does not exist, and nulls for the
 * bookkeeping columns of a ledger the old runner made.
 *
 * @example
 * ```ts
 * const rows = await readLedger(db)
 * ```
 */
export async function readLedger(db: Kysely<any>): Promise<LedgerRow[]> {
  const { rows } = await sql<{ exists: boolean }>`select to_regclass(${LEDGER_TABLE}) is not null as exists`.execute(db)
  if (!rows[0]?.exists) return []
  return readLedgerRows(db)
}

/**
 * Reads the rows of a ledger known to exist, whatever columns it has.
 *
 * @example
 * ```ts
 * const rows = await readLedgerRows(db)
 * ```
 */
export async function readLedgerRows(db: Kysely<any>): Promise<LedgerRow[]> {
  const result = await sql<{ row: Record<string, unknown> }>`
    select to_jsonb(s) as row from schema_versions s order by version`.execute(db)
  return result.rows.map(({ row }) => toLedgerRow(row))
}

/**
 * Turns a `to_jsonb(schema_versions)` object into a {@link LedgerRow}.
 *
 * @example
 * ```ts
 * toLedgerRow({ version: 1, description: 'initial schema' }).checksum // null
 * ```
 */
export function toLedgerRow(row: Record<string, unknown>): LedgerRow {
  const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null)
  return Object.freeze({
    version: Number(row['version']),
    description: String(row['description'] ?? ''),
    appliedAt: date(row['applied_at']),
    checksum: (row['checksum'] as string | null | undefined) ?? null,
    fileName: (row['file_name'] as string | null | undefined) ?? null,
    executionMs: (row['execution_ms'] as number | null | undefined) ?? null,
    adoptedAt: date(row['adopted_at']),
    atomic: (row['atomic'] as boolean | null | undefined) ?? null,
  })
}

/**
 * A SQL literal for a string (standard_conforming_strings is on in every supported server).
 *
 * @example
 * ```ts
 * literal("it's") // "'it''s'"
 * ```
 */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
