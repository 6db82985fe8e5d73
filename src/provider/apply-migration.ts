import { sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_TABLE } from 'kysely/migration'

import { literal, type LedgerRow } from './ledger.js'
import type { MigrationDownFile, MigrationFile } from './migration-file.js'
import { MigrationError } from './migration-error.js'
import {
  codeForServerError,
  isServerError,
  MigrationSqlError,
  worthLocating,
  type PgErrorLike,
} from './migration-sql-error.js'
import type { SqlStatement } from './parse-migration-sql.js'

/**
 * What happened to one file. `adopted`: the old runner had applied it (its ledger row had no
 * checksum); `healed`: our ledger had it but Kysely's did not (a crash between the two);
 * neither ran any SQL.
 */
export type ApplyKind = 'applied' | 'adopted' | 'healed' | 'reverted'

/** Reported through the provider's `onApply` callback after each file. */
export interface ApplyEvent {
  readonly kind: ApplyKind
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly durationMs: number
  /** False for a `-- wukong:no-transaction` file. */
  readonly atomic: boolean
}

/** The ledger as this run saw it under the migration lock, kept current as files apply. */
export type RunLedger = Map<number, LedgerRow>

/**
 * Asks {@link applyUp} to write Kysely's `kysely_migration` row too, in the same transaction
 * as the file and its `schema_versions` row (for a caller that holds the migration lock
 * itself instead of running under Kysely's Migrator, which writes that row on its own).
 */
export interface KyselyRecord {
  /** What Kysely's Migrator would store: an ISO timestamp later than every recorded one. */
  readonly timestamp: string
}

/** Limits for each file's statements; 0 means no limit, undefined the server's setting. */
export interface ApplyLimits {
  readonly lockTimeoutMs?: number
  readonly statementTimeoutMs?: number
}

function limitSettings(limits: ApplyLimits, scope: 'LOCAL' | 'SESSION'): string {
  const parts: string[] = []
  if (limits.lockTimeoutMs !== undefined) parts.push(`SET ${scope} lock_timeout = ${Math.max(0, Math.trunc(limits.lockTimeoutMs))}`)
  if (limits.statementTimeoutMs !== undefined) parts.push(`SET ${scope} statement_timeout = ${Math.max(0, Math.trunc(limits.statementTimeoutMs))}`)
  return parts.map((p) => `${p};\n`).join('')
}

async function withSessionLimits<T>(db: Kysely<unknown>, limits: ApplyLimits, body: () => Promise<T>): Promise<T> {
  const set = limitSettings(limits, 'SESSION')
  if (!set) return body()
  await sql.raw(set).execute(db)
  try {
    return await body()
  } finally {
    await sql.raw('RESET lock_timeout; RESET statement_timeout').execute(db).catch(() => {})
  }
}

/**
 * Applies one file: its SQL and its ledger row in one round trip and one transaction (an
 * implicit one when `db` is not in a transaction), or adopts it when the ledger already has it.
 *
 * @example
 * ```ts
 * const event = await applyUp(db, file, ledger)
 * ```
 */
export async function applyUp(
  db: Kysely<unknown>,
  file: MigrationFile,
  ledger: RunLedger,
  limits: ApplyLimits = {},
  kysely?: KyselyRecord,
): Promise<ApplyEvent> {
  const started = performance.now()
  const event = (kind: ApplyKind, atomic: boolean): ApplyEvent =>
    Object.freeze({ kind, version: file.version, name: file.name, fileName: file.fileName, atomic, durationMs: performance.now() - started })
  const record = kysely ? `;\n${kyselyInsert(file.name, kysely.timestamp)}` : ''

  const existing = ledger.get(file.version)
  if (existing) return event(await adopt(db, file, existing, record), existing.atomic ?? true)

  if (!file.sql.transactional) {
    assertNotInTransaction(db, file.fileName)
    await withSessionLimits(db, limits, async () => {
      for (const statement of file.sql.statements) {
        if (isLedgerInsert(file, statement)) continue
        await runOrExplain(db, file.fileName, file.text, statement.text, statement.start)
      }
    })
    // Both ledger rows in one implicit transaction: both or neither.
    const row = ledgerInsert(file, false, `${Math.round(performance.now() - started)}`) + record
    try {
      await sql.raw(row).execute(db)
    } catch (error) {
      if (!isLedgerConflict(error)) throw toMigrationError(error, file.fileName)
      return event(await adoptConcurrent(db, file, ledger, record), false)
    }
    ledger.set(file.version, pendingRow(file, false))
    return event('applied', false)
  }

  // One simple-protocol query: the ledger row first (so a concurrent migrator that slipped
  // past the lock blocks on it and then fails before running anything), the file as written
  // (its own schema_versions INSERT blanked out, positions kept), then the duration (and,
  // when asked, Kysely's row: both ledgers commit with the file).
  const prefix = `${ledgerInsert(file, true, 'NULL')};\n`
  const batch =
    (db.isTransaction ? 'SAVEPOINT wukong_migration_file;\n' : '') +
    limitSettings(limits, 'LOCAL') +
    prefix +
    blankLedgerInserts(file) +
    `\n;\nUPDATE schema_versions SET execution_ms = round(extract(epoch from clock_timestamp() - statement_timestamp()) * 1000) WHERE version = ${file.version}` +
    record +
    (db.isTransaction ? ';\nRELEASE SAVEPOINT wukong_migration_file' : '')
  const offset = batch.indexOf(prefix) + prefix.length
  try {
    await sql.raw(batch).execute(db)
  } catch (error) {
    if (db.isTransaction) await sql.raw('ROLLBACK TO SAVEPOINT wukong_migration_file').execute(db).catch(() => {})
    if (isLedgerConflict(error) && !db.isTransaction) return event(await adoptConcurrent(db, file, ledger, record), true)
    throw await explain(db, error, file.fileName, file.text, offset, file.sql.statements, (s) => isLedgerInsert(file, s))
  }
  ledger.set(file.version, pendingRow(file, true))
  return event('applied', true)
}

/** A file for {@link applyUpBatch}, with the timestamp of its `kysely_migration` row. */
export interface BatchedFile {
  readonly file: MigrationFile
  readonly kysely: KyselyRecord
}

/**
 * Applies several transactional files in ONE round trip, each still in its own transaction:
 * the batch is `BEGIN; <limits>; <ledger row>; <file>; <duration>; <Kysely's row>; COMMIT;`
 * per file, sent as one simple-protocol query, so each file commits before the next begins
 * and an error stops the batch at the failing file with the ones before it committed.
 * Returns how many files (a prefix of `batch`) committed; after a failure it rolls the open
 * transaction back and reads which versions committed (one more round trip), and the caller
 * applies the rest one by one ({@link applyUp}), which reproduces the failure with the
 * file's line:column. Only for a connection outside any transaction, under the migration lock,
 * with files the ledger does not have.
 *
 * @example
 * ```ts
 * const done = await applyUpBatch(db, [{ file, kysely: { timestamp } }], ledger, limits)
 * ```
 */
export async function applyUpBatch(
  db: Kysely<unknown>,
  batch: readonly BatchedFile[],
  ledger: RunLedger,
  limits: ApplyLimits = {},
  onCommitted?: (event: ApplyEvent) => void,
): Promise<number> {
  const started = performance.now()
  // applied_at is each file's own start (clock_timestamp() as its block begins), not the
  // batch's arrival, so that execution_ms is the file's own time.
  const text = batch
    .map(({ file, kysely }) =>
      [
        'BEGIN;',
        limitSettings(limits, 'LOCAL') + `${ledgerInsert(file, true, 'NULL', 'clock_timestamp()')};`,
        blankLedgerInserts(file),
        ';',
        `UPDATE schema_versions SET execution_ms = round(extract(epoch from clock_timestamp() - applied_at) * 1000) WHERE version = ${file.version};`,
        `${kyselyInsert(file.name, kysely.timestamp)};`,
        'COMMIT;',
      ].join('\n'),
    )
    .join('\n')
  let committed = batch.length
  try {
    await sql.raw(text).execute(db)
  } catch (error) {
    // The failing file's transaction is open and aborted; the files before it committed.
    await sql.raw('ROLLBACK').execute(db).catch(() => {})
    let done: Set<number>
    try {
      const { rows } = await sql<{ version: number }>`
        select version from schema_versions where version = any(${batch.map((b) => b.file.version)}::int[])`.execute(db)
      done = new Set(rows.map((r) => r.version))
    } catch {
      throw error // the connection is gone: the batch's own error says why
    }
    committed = batch.findIndex((b) => !done.has(b.file.version))
    if (committed < 0) committed = batch.length
  }
  // Files of one batch share its wall time: each event reports an equal share.
  const share = (performance.now() - started) / batch.length
  for (const { file } of batch.slice(0, committed)) {
    ledger.set(file.version, pendingRow(file, true))
    onCommitted?.(Object.freeze({ kind: 'applied', version: file.version, name: file.name, fileName: file.fileName, atomic: true, durationMs: share }))
  }
  return committed
}

/**
 * Runs a file's down SQL and deletes its ledger row, atomically.
 *
 * @example
 * ```ts
 * await applyDown(db, file, file.down!, ledger)
 * ```
 */
export async function applyDown(
  db: Kysely<unknown>,
  file: MigrationFile,
  down: MigrationDownFile,
  ledger: RunLedger,
  limits: ApplyLimits = {},
): Promise<ApplyEvent> {
  const started = performance.now()
  const forget = `DELETE FROM schema_versions WHERE version = ${file.version}`
  if (!down.sql.transactional) {
    assertNotInTransaction(db, down.fileName)
    await withSessionLimits(db, limits, async () => {
      for (const statement of down.sql.statements) {
        await runOrExplain(db, down.fileName, down.text, statement.text, statement.start)
      }
    })
    await sql.raw(forget).execute(db)
  } else {
    const prefix = (db.isTransaction ? 'SAVEPOINT wukong_migration_file;\n' : '') + limitSettings(limits, 'LOCAL')
    const batch = `${prefix}${down.text}\n;\n${forget}${db.isTransaction ? ';\nRELEASE SAVEPOINT wukong_migration_file' : ''}`
    try {
      await sql.raw(batch).execute(db)
    } catch (error) {
      if (db.isTransaction) await sql.raw('ROLLBACK TO SAVEPOINT wukong_migration_file').execute(db).catch(() => {})
      throw await explain(db, error, down.fileName, down.text, prefix.length, down.sql.statements, () => false)
    }
  }
  ledger.delete(file.version)
  return Object.freeze({
    kind: 'reverted',
    version: file.version,
    name: file.name,
    fileName: down.fileName,
    atomic: down.sql.transactional,
    durationMs: performance.now() - started,
  })
}

/**
 * Wraps any error from running a file in a {@link MigrationError} that names the file.
 *
 * @example
 * ```ts
 * throw toMigrationError(error, '003_agent_fork.sql')
 * ```
 */
export function toMigrationError(error: unknown, fileName: string, text?: string, offset?: number): MigrationError {
  if (error instanceof MigrationError) return error
  const pg = error as PgErrorLike
  const sqlState = isServerError(error) ? pg.code : undefined
  const message = error instanceof Error ? error.message : String(error)
  return new MigrationSqlError(
    codeForServerError(sqlState, message),
    message,
    fileName,
    text,
    offset,
    { sqlState, detail: pg.detail, hint: pg.hint, where: pg.where },
    error,
  )
}

async function adopt(db: Kysely<unknown>, file: MigrationFile, existing: LedgerRow, record = ''): Promise<ApplyKind> {
  if (existing.checksum !== null) {
    if (record) await sql.raw(record.slice(2)).execute(db)
    return 'healed'
  }
  await sql
    .raw(
      `UPDATE schema_versions SET checksum = ${literal(file.checksum)}, file_name = ${literal(file.fileName)}, adopted_at = now(), atomic = coalesce(atomic, true) WHERE version = ${file.version}${record}`,
    )
    .execute(db)
  return 'adopted'
}

/**
 * Kysely's own record of a migration, as its Migrator writes it; a row already there (from a
 * run that recorded it a moment before its process died) is kept.
 */
function kyselyInsert(name: string, timestamp: string): string {
  return `INSERT INTO ${DEFAULT_MIGRATION_TABLE} (name, timestamp) VALUES (${literal(name)}, ${literal(timestamp)}) ON CONFLICT (name) DO NOTHING`
}

async function adoptConcurrent(db: Kysely<unknown>, file: MigrationFile, ledger: RunLedger, record = ''): Promise<ApplyKind> {
  // Another migrator committed this version after our run read the ledger: our attempt
  // rolled back whole, so take its row as the truth, as after a crash.
  const { rows } = await sql<{ checksum: string | null }>`select checksum from schema_versions where version = ${file.version}`.execute(db)
  const checksum = rows[0]?.checksum ?? null
  if (checksum !== null && checksum !== file.checksum) {
    throw new MigrationError(
      'CHECKSUM_MISMATCH',
      `${file.fileName}: another migrator applied version ${file.version} with checksum ${checksum}, but this file's checksum is ${file.checksum}`,
      { file: file.fileName },
    )
  }
  ledger.set(file.version, pendingRow(file, true))
  return adopt(db, file, { ...pendingRow(file, true), checksum }, record)
}

function pendingRow(file: MigrationFile, atomic: boolean): LedgerRow {
  return { version: file.version, description: file.description, appliedAt: null, checksum: file.checksum, fileName: file.fileName, executionMs: null, adoptedAt: null, atomic }
}

function ledgerInsert(file: MigrationFile, atomic: boolean, executionMs: string, appliedAt = 'statement_timestamp()'): string {
  return (
    'INSERT INTO schema_versions (version, description, applied_at, checksum, file_name, atomic, execution_ms) ' +
    `VALUES (${file.version}, ${literal(file.description)}, ${appliedAt}, ${literal(file.checksum)}, ${literal(file.fileName)}, ${atomic}, ${executionMs})`
  )
}

function isLedgerInsert(file: MigrationFile, statement: SqlStatement): boolean {
  return file.sql.ledgerInserts.some((i) => i.start === statement.start)
}

/** The file's text with its own `schema_versions` INSERTs turned into spaces (newlines kept). */
function blankLedgerInserts(file: MigrationFile): string {
  let text = file.text
  for (const { start, end } of file.sql.ledgerInserts) {
    text = text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end)
  }
  return text
}

function isLedgerConflict(error: unknown): boolean {
  return isServerError(error) && error.code === '23505' && error.constraint === 'schema_versions_pkey'
}

function assertNotInTransaction(db: Kysely<unknown>, fileName: string): void {
  if (db.isTransaction) {
    throw new MigrationError(
      'NON_TRANSACTIONAL_IN_TRANSACTION',
      `${fileName}: this file opted out of transactions (-- wukong:no-transaction) but the Migrator runs every migration in one transaction; use MigrationRunner, or new Migrator({ …, disableTransactions: true })`,
      { file: fileName },
    )
  }
}

async function runOrExplain(db: Kysely<unknown>, fileName: string, text: string, statement: string, start: number): Promise<void> {
  try {
    await sql.raw(statement).execute(db)
  } catch (error) {
    const position = Number((error as PgErrorLike).position)
    throw toMigrationError(error, fileName, text, position > 0 ? start + position - 1 : start)
  }
}

/**
 * Turns a failed batch into an error with line:column. PostgreSQL gives a position for
 * parse-analysis errors; for the rest (e.g. "relation already exists") replay the file's
 * statements one by one in a transaction that is rolled back, to find the one that fails.
 */
async function explain(
  db: Kysely<unknown>,
  error: unknown,
  fileName: string,
  text: string,
  offset: number,
  statements: readonly SqlStatement[],
  skip: (s: SqlStatement) => boolean,
): Promise<MigrationError> {
  const position = Number((error as PgErrorLike).position)
  if (position > 0) {
    const at = position - 1 - offset
    return toMigrationError(error, fileName, text, at >= 0 && at < text.length ? at : undefined)
  }
  const sqlState = isServerError(error) ? error.code : undefined
  if (!worthLocating(sqlState)) return toMigrationError(error, fileName)
  const [begin, end] = db.isTransaction
    ? ['SAVEPOINT wukong_locate', 'ROLLBACK TO SAVEPOINT wukong_locate']
    : ['BEGIN', 'ROLLBACK']
  let culprit: SqlStatement | undefined
  try {
    await sql.raw(begin).execute(db)
    for (const statement of statements) {
      if (skip(statement)) continue
      try {
        await sql.raw(statement.text).execute(db)
      } catch {
        culprit = statement
        break
      }
    }
  } catch {
    // Locating is best effort; the original error is what matters.
  } finally {
    await sql.raw(end).execute(db).catch(() => {})
  }
  return toMigrationError(error, fileName, text, culprit?.start)
}
