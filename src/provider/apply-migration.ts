import { sql, type Kysely } from 'kysely'

import { assertAdoptable } from './adoption-check.js'
import { ledgerIntegritySql, type LedgerHome, type LedgerRow } from './ledger.js'
import type { MigrationDownFile, MigrationFile } from './migration-file.js'
import { MigrationError } from '../errors/migration-error.js'
import {
  toMigrationError,
  isServerError,
  MigrationSqlError,
  worthLocating,
  type PgErrorLike,
} from './migration-sql-error.js'
import { describeHolders, lockHolders, type LockHolder } from './lock-holders.js'
import type { ConcurrentIndex, ParsedSql, SqlStatement } from './parse-migration-sql.js'
import { indexOfCodePoint, lineColumnAt, literal } from './sql-text.js'
import { LEDGER_TABLES } from './ledger.js'
import { SQLSTATE } from '../errors/sql-state.js'
import type { StatementTimeouts } from './migration-timeouts.js'

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

/**
 * One run's view of the database, read once under the migration lock and kept current as
 * files apply: both ledgers, their home, and the session state every file starts from.
 */
export interface RunLedger {
  readonly rows: Map<number, LedgerRow>
  /** Kysely's recorded names; undefined under Kysely's Migrator, which writes its own rows. */
  readonly kysely: Set<string> | undefined
  readonly home: LedgerHome
  readonly restoreSql: string
}

/**
 * The check that ends a file's transaction: the ledgers hold what they held plus this file's
 * rows (or minus them, reverting), nothing else. One statement in the file's round trip.
 */
function integrityAfter(ledger: RunLedger, file: MigrationFile, row: LedgerRow | undefined): string {
  const rows = new Map(ledger.rows)
  const names = ledger.kysely && new Set(ledger.kysely)
  if (row) {
    rows.set(file.version, row)
    names?.add(file.name)
  } else {
    rows.delete(file.version)
    names?.delete(file.name)
  }
  return ledgerIntegritySql(ledger.home, rows.values(), names)
}

/** Records in the run's view what a file's committed transaction wrote. */
function committed(ledger: RunLedger, file: MigrationFile, row: LedgerRow | undefined): void {
  if (row) {
    ledger.rows.set(file.version, row)
    ledger.kysely?.add(file.name)
  } else {
    ledger.rows.delete(file.version)
    ledger.kysely?.delete(file.name)
  }
}

/**
 * Asks {@link applyUp} to write Kysely's `kysely_migration` row too, in the same transaction
 * as the file and its `schema_versions` row (for a caller that holds the migration lock
 * itself instead of running under Kysely's Migrator, which writes that row on its own).
 */
export interface KyselyRecord {
  /** What Kysely's Migrator would store: an ISO timestamp later than every recorded one. */
  readonly timestamp: string
}

function limitSettings(limits: StatementTimeouts, scope: 'LOCAL' | 'SESSION'): string {
  return `SET ${scope} lock_timeout = ${limits.lockMs};\nSET ${scope} statement_timeout = ${limits.statementMs};\n`
}

/**
 * Runs a non-atomic file's statements under the runner's limits, then brings the session back
 * to the run's baseline (whatever the file SET), before the tool writes its ledger row.
 */
async function withSessionLimits<T>(
  db: Kysely<unknown>,
  limits: StatementTimeouts,
  restore: string,
  body: () => Promise<T>,
): Promise<T> {
  const set = limitSettings(limits, 'SESSION')
  if (set) await sql.raw(set).execute(db)
  let restored = false
  try {
    const result = await body()
    await sql.raw(restore).execute(db)
    restored = true
    return result
  } finally {
    if (!restored)
      await sql
        .raw(restore)
        .execute(db)
        .catch(() => {})
  }
}

/** The run's baseline, plus `DISCARD TEMP` after a file that made temporary objects. */
function restoreSql(ledger: RunLedger, parsed: ParsedSql): string {
  return parsed.createsTemporary ? `${ledger.restoreSql};\nDISCARD TEMP` : ledger.restoreSql
}

/**
 * Applies one file: its SQL and its ledger row in one round trip and one transaction (an
 * implicit one when `db` is not in a transaction), or adopts it when the ledger already has it.
 */
export async function applyUp(
  db: Kysely<any>,
  file: MigrationFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
  files: readonly MigrationFile[] = [file],
  kysely?: KyselyRecord,
): Promise<ApplyEvent> {
  const started = performance.now()
  const event = (kind: ApplyKind, atomic: boolean): ApplyEvent =>
    Object.freeze({
      kind,
      version: file.version,
      name: file.name,
      fileName: file.fileName,
      atomic,
      durationMs: performance.now() - started,
    })
  const record = kysely ? kyselyInsert(ledger.home.kysely, file.name, kysely.timestamp) : undefined

  const existing = ledger.rows.get(file.version)
  if (existing)
    return event(
      await adopt(db, file, existing, ledger, laterApplied(file, files, ledger), record),
      existing.atomic ?? true,
    )

  const table = ledger.home.ledger
  if (!file.sql.transactional) {
    assertNotInTransaction(db, file.fileName)
    const builds = file.sql.statements.filter((s) => s.concurrentIndex)
    const invalidBefore = await invalidIndexes(db, builds)
    await withSessionLimits(db, limits, restoreSql(ledger, file.sql), async () => {
      for (const statement of file.sql.statements) {
        if (isLedgerInsert(file, statement)) continue
        if (statement.concurrentIndex) await dropInvalidLeftover(db, statement.concurrentIndex)
        await runOrExplain(db, file.fileName, file.text, statement)
      }
    })
    // Before the ledger row: an index left invalid must not be recorded as built.
    await assertIndexesValid(db, file, builds, invalidBefore)
    const row = ledgerInsert(table, file, false, `${Math.round(performance.now() - started)}`)
    try {
      await sql.raw(row).execute(db)
    } catch (error) {
      if (!isLedgerConflict(error)) throw toMigrationError(error, file.fileName)
      return event(await adoptConcurrent(db, file, ledger, files, record), false)
    }
    ledger.rows.set(file.version, pendingRow(file, false))
    // Kysely's row on its own: the file's statements ran outside any transaction, so
    // schema_versions must say so even when this write fails (the next run heals it).
    if (record) await recordInKysely(db, file, record)
    if (record) ledger.kysely?.add(file.name)
    await assertLedgersIntact(db, file, ledger)
    return event('applied', false)
  }

  // One simple-protocol query: the ledger row first (so a concurrent migrator that slipped
  // past the lock blocks on it and then fails before running anything), the file as written
  // (its own schema_versions INSERT blanked out, positions kept), the session brought back to
  // the run's baseline (so nothing the file SET outlives it), then the duration (and, when
  // asked, Kysely's row: both ledgers commit with the file). The tool's own statements name
  // the ledgers with their schema, whatever search_path the file set.
  const prefix = `${ledgerInsert(table, file, true, 'NULL')};\n`
  const batch = asSavepoint(
    db,
    limitSettings(limits, 'LOCAL') +
      prefix +
      blankLedgerInserts(file) +
      `\n;\n${restoreSql(ledger, file.sql)};\n` +
      `UPDATE ${table} SET execution_ms = pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - pg_catalog.statement_timestamp()) * 1000) WHERE version = ${file.version}` +
      (record ? `;\n${record}` : '') +
      `;\n${integrityAfter(ledger, file, pendingRow(file, true))}`,
  )
  const offset = batch.indexOf(prefix) + prefix.length
  try {
    await sendAtomically(db, batch)
  } catch (error) {
    if (isLedgerConflict(error) && !db.isTransaction)
      return event(await adoptConcurrent(db, file, ledger, files, record), true)
    throw await explain(
      db,
      error,
      file.fileName,
      file.text,
      batch,
      offset,
      file.sql.statements,
      (s) => isLedgerInsert(file, s),
      limits,
    )
  }
  committed(ledger, file, pendingRow(file, true))
  return event('applied', true)
}

/** A file for {@link applyUpBatch}, with the timestamp of its `kysely_migration` row. */
export interface BatchedFile {
  readonly file: MigrationFile
  readonly kysely: KyselyRecord
}

/**
 * Applies several transactional files in ONE round trip, each still in its own transaction:
 * the batch is `BEGIN; <limits>; <ledger row>; <file>; <session restored>; <duration>;
 * <Kysely's row>; COMMIT;` per file, sent as one simple-protocol query, so each file commits
 * before the next begins and an error stops the batch at the failing file with the ones before
 * it committed. Each file's block brings the session back to the run's baseline before its
 * COMMIT, as {@link applyUp} does. Returns how many files (a prefix of `batch`) committed;
 * after a failure it rolls the open transaction back and reads which versions committed (one
 * more round trip), and the caller applies the rest one by one ({@link applyUp}), which
 * reproduces the failure with the file's line:column. Only for a connection outside any
 * transaction, under the migration lock, with files the ledger does not have.
 */
export async function applyUpBatch(
  db: Kysely<any>,
  batch: readonly BatchedFile[],
  ledger: RunLedger,
  limits: StatementTimeouts,
  onCommitted?: (event: ApplyEvent) => void,
): Promise<number> {
  const started = performance.now()
  const { ledger: table, kysely: kyselyTable } = ledger.home
  // applied_at is each file's own start (clock_timestamp() as its block begins), not the
  // batch's arrival, so that execution_ms is the file's own time.
  // Each block ends with its integrity check, against the ledgers as the blocks before it left them.
  const view: RunLedger = { ...ledger, rows: new Map(ledger.rows), kysely: ledger.kysely && new Set(ledger.kysely) }
  const text = batch
    .map(({ file, kysely }) => {
      const row = pendingRow(file, true)
      const check = integrityAfter(view, file, row)
      committed(view, file, row)
      return [
        'BEGIN;',
        `${limitSettings(limits, 'LOCAL')}${ledgerInsert(table, file, true, 'NULL', 'pg_catalog.clock_timestamp()')};`,
        blankLedgerInserts(file),
        ';',
        `${restoreSql(ledger, file.sql)};`,
        `UPDATE ${table} SET execution_ms = pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - applied_at) * 1000) WHERE version = ${file.version};`,
        `${kyselyInsert(kyselyTable, file.name, kysely.timestamp)};`,
        `${check};`,
        'COMMIT;',
      ].join('\n')
    })
    .join('\n')
  let done = batch.length
  try {
    await sql.raw(text).execute(db)
  } catch (error) {
    // The failing file's transaction is open and aborted (its SETs roll back with it); the
    // files before it committed, each with the session restored.
    await sql
      .raw('ROLLBACK')
      .execute(db)
      .catch(() => {})
    let versions: Set<number>
    try {
      const { rows } = await sql<{ version: number }>`
        select version from ${sql.raw(table)} where version = any(${batch.map((b) => b.file.version)}::int[])`.execute(
        db,
      )
      versions = new Set(rows.map((r) => r.version))
    } catch {
      throw error // the connection is gone: the batch's own error says why
    }
    done = batch.findIndex((b) => !versions.has(b.file.version))
    if (done < 0) done = batch.length
  }
  // Files of one batch share its wall time: each event reports an equal share.
  const share = (performance.now() - started) / batch.length
  for (const { file } of batch.slice(0, done)) {
    committed(ledger, file, pendingRow(file, true))
    onCommitted?.(
      Object.freeze({
        kind: 'applied',
        version: file.version,
        name: file.name,
        fileName: file.fileName,
        atomic: true,
        durationMs: share,
      }),
    )
  }
  return done
}

/** Runs a file's down SQL and deletes its ledger row, atomically. */
export async function applyDown(
  db: Kysely<any>,
  file: MigrationFile,
  down: MigrationDownFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
): Promise<ApplyEvent> {
  const started = performance.now()
  // Both ledgers forget the file in its transaction; under Kysely's Migrator, Kysely deletes its own row.
  const forget =
    `DELETE FROM ${ledger.home.ledger} WHERE version = ${file.version}` +
    (ledger.kysely ? `;\nDELETE FROM ${ledger.home.kysely} WHERE name = ${literal(file.name)}` : '')
  if (!down.sql.transactional) {
    assertNotInTransaction(db, down.fileName)
    await withSessionLimits(db, limits, restoreSql(ledger, down.sql), async () => {
      for (const statement of down.sql.statements) {
        await runOrExplain(db, down.fileName, down.text, statement)
      }
    })
    await sql.raw(forget).execute(db)
    committed(ledger, file, undefined)
    await assertLedgersIntact(db, file, ledger)
  } else {
    const prefix = limitSettings(limits, 'LOCAL')
    const batch = asSavepoint(
      db,
      `${prefix}${down.text}\n;\n${restoreSql(ledger, down.sql)};\n${forget};\n${integrityAfter(ledger, file, undefined)}`,
    )
    try {
      await sendAtomically(db, batch)
    } catch (error) {
      throw await explain(
        db,
        error,
        down.fileName,
        down.text,
        batch,
        batch.indexOf(down.text, batch.indexOf(prefix) + prefix.length),
        down.sql.statements,
        () => false,
        limits,
      )
    }
    committed(ledger, file, undefined)
  }
  return Object.freeze({
    kind: 'reverted',
    version: file.version,
    name: file.name,
    fileName: down.fileName,
    atomic: down.sql.transactional,
    durationMs: performance.now() - started,
  })
}

/** A file's batch inside a caller's transaction: a savepoint of its own, released at its end. */
function asSavepoint(db: Kysely<unknown>, body: string): string {
  return db.isTransaction ? `SAVEPOINT wukong_migration_file;\n${body};\nRELEASE SAVEPOINT wukong_migration_file` : body
}

/** Sends a file's batch; inside a caller's transaction a failure rolls back to the file's savepoint. */
async function sendAtomically(db: Kysely<unknown>, batch: string): Promise<void> {
  try {
    await sql.raw(batch).execute(db)
  } catch (error) {
    if (db.isTransaction)
      await sql
        .raw('ROLLBACK TO SAVEPOINT wukong_migration_file')
        .execute(db)
        .catch(() => {})
    throw error
  }
}

/**
 * After a no-transaction file: its statements have committed, so a ledger it changed cannot be
 * rolled back; say so, naming the file, rather than report it applied.
 */
async function assertLedgersIntact(db: Kysely<unknown>, file: MigrationFile, ledger: RunLedger): Promise<void> {
  try {
    await sql.raw(ledgerIntegritySql(ledger.home, ledger.rows.values(), ledger.kysely)).execute(db)
  } catch (error) {
    if ((error as PgErrorLike).code !== SQLSTATE.LEDGER_INTEGRITY) throw toMigrationError(error, file.fileName)
    throw new MigrationError(
      'LEDGER_WRITE',
      'the migration ledgers hold something other than this run wrote: the file (not atomic, its statements committed) ' +
        'wrote to schema_versions or kysely_migration in a way no parse can see; compare wukong-migrate status with the database and repair the ledgers by hand',
      { file: file.fileName, sqlState: SQLSTATE.LEDGER_INTEGRITY },
    )
  }
}

/** The files after `file` that the ledger records as applied: what they drop is not expected of `file`. */
function laterApplied(file: MigrationFile, files: readonly MigrationFile[], ledger: RunLedger): MigrationFile[] {
  return files.filter((f) => f.version > file.version && ledger.rows.has(f.version))
}

async function adopt(
  db: Kysely<unknown>,
  file: MigrationFile,
  existing: LedgerRow,
  ledger: RunLedger,
  later: readonly MigrationFile[],
  record?: string,
): Promise<ApplyKind> {
  if (existing.checksum !== null) {
    if (record) await sql.raw(record).execute(db)
    if (record) ledger.kysely?.add(file.name)
    return 'healed'
  }
  // Another runner's row says only "version N was applied"; the file's objects must agree
  // before this file counts as applied, or a reused number would hide a missing schema.
  await assertAdoptable(db, file, later, existing.description)
  await sql
    .raw(
      `UPDATE ${ledger.home.ledger} SET checksum = ${literal(file.checksum)}, file_name = ${literal(file.fileName)}, adopted_at = now(), atomic = coalesce(atomic, true) WHERE version = ${file.version}${record ? `;\n${record}` : ''}`,
    )
    .execute(db)
  ledger.rows.set(file.version, { ...existing, checksum: file.checksum, fileName: file.fileName })
  if (record) ledger.kysely?.add(file.name)
  return 'adopted'
}

/**
 * Kysely's own record of a migration, as its Migrator writes it; a row already there (from a
 * run that recorded it a moment before its process died) is kept.
 */
function kyselyInsert(table: string, name: string, timestamp: string): string {
  return `INSERT INTO ${table} (name, timestamp) VALUES (${literal(name)}, ${literal(timestamp)}) ON CONFLICT (name) DO NOTHING`
}

/**
 * Writes Kysely's row for a file whose work (and `schema_versions` row) already committed;
 * a failure here is `BOOKKEEPING_FAILED`: applied, and healed by the next run.
 */
async function recordInKysely(db: Kysely<unknown>, file: MigrationFile, record: string): Promise<void> {
  try {
    await sql.raw(record).execute(db)
  } catch (error) {
    const cause = toMigrationError(error, file.fileName)
    throw new MigrationError(
      'BOOKKEEPING_FAILED',
      `applied (schema_versions records version ${file.version}), but Kysely could not record it in kysely_migration: ${cause.reason}`,
      { file: file.fileName, sqlState: cause.sqlState, cause },
    )
  }
}

async function adoptConcurrent(
  db: Kysely<unknown>,
  file: MigrationFile,
  ledger: RunLedger,
  files: readonly MigrationFile[],
  record?: string,
): Promise<ApplyKind> {
  // Another migrator committed this version after our run read the ledger: our attempt
  // rolled back whole, so take its row as the truth, as after a crash.
  const { rows } = await sql<{
    checksum: string | null
    description: string
  }>`select checksum, description from ${sql.raw(ledger.home.ledger)} where version = ${file.version}`.execute(db)
  const checksum = rows[0]?.checksum ?? null
  if (checksum !== null && checksum !== file.checksum) {
    throw new MigrationError(
      'CHECKSUM_MISMATCH',
      `another migrator applied version ${file.version} with checksum ${checksum}, but this file's checksum is ${file.checksum}`,
      { file: file.fileName },
    )
  }
  ledger.rows.set(file.version, pendingRow(file, true))
  const description = rows[0]?.description ?? ''
  return adopt(
    db,
    file,
    { ...pendingRow(file, true), checksum, description },
    ledger,
    laterApplied(file, files, ledger),
    record,
  )
}

function pendingRow(file: MigrationFile, atomic: boolean): LedgerRow {
  return {
    version: file.version,
    description: file.description,
    appliedAt: null,
    checksum: file.checksum,
    fileName: file.fileName,
    executionMs: null,
    adoptedAt: null,
    atomic,
  }
}

function ledgerInsert(
  table: string,
  file: MigrationFile,
  atomic: boolean,
  executionMs: string,
  appliedAt = 'pg_catalog.statement_timestamp()',
): string {
  return (
    `INSERT INTO ${table} (version, description, applied_at, checksum, file_name, atomic, execution_ms) ` +
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
    text = text.slice(0, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ') + text.slice(end)
  }
  return text
}

function isLedgerConflict(error: unknown): boolean {
  return isServerError(error) && error.code === SQLSTATE.UNIQUE_VIOLATION && error.constraint === 'schema_versions_pkey'
}

function assertNotInTransaction(db: Kysely<unknown>, fileName: string): void {
  if (db.isTransaction) {
    throw new MigrationError(
      'NON_TRANSACTIONAL_IN_TRANSACTION',
      `this file opted out of transactions (-- wukong:no-transaction) but the Migrator runs every migration in one transaction; use MigrationRunner, or new Migrator({ …, disableTransactions: true })`,
      { file: fileName },
    )
  }
}

async function runOrExplain(
  db: Kysely<unknown>,
  fileName: string,
  text: string,
  statement: SqlStatement,
): Promise<void> {
  try {
    await sql.raw(statement.text).execute(db)
  } catch (error) {
    if (isLockTimeout(error)) throw await lockTimeoutError(db, error, fileName, text, [statement])
    const position = Number((error as PgErrorLike).position)
    throw toMigrationError(
      error,
      fileName,
      text,
      statement.start + (position > 0 ? indexOfCodePoint(statement.text, position - 1) : 0),
    )
  }
}

function isLockTimeout(error: unknown): boolean {
  return (
    isServerError(error) &&
    (error.code === SQLSTATE.LOCK_NOT_AVAILABLE ||
      (error.code === SQLSTATE.QUERY_CANCELED && /lock timeout/i.test(error.message)))
  )
}

/**
 * A lock timeout names its statement and who held the lock. PostgreSQL gives neither (no
 * position; the waiter is gone by then), and replaying would wait again, so the holders are
 * read from `pg_locks` for the tables the file's statements name, and the statement is the
 * first one (in file order) that names a table another session holds. The holder is shown
 * as `backend pid N (application_name "…", state, query: …)`, literals blanked.
 */
async function lockTimeoutError(
  db: Kysely<unknown>,
  error: unknown,
  fileName: string,
  text: string,
  candidates: readonly SqlStatement[],
): Promise<MigrationError> {
  const relations = [...new Set([...candidates.flatMap((s) => s.relations), ...LEDGER_TABLES])]
  const holders = await lockHolders(db, relations).catch((): LockHolder[] => [])
  const held = new Set(holders.map((h) => h.relation))
  const culprit = candidates.length === 1 ? candidates[0] : candidates.find((s) => s.relations.some((r) => held.has(r)))
  const mine = culprit ? holders.filter((h) => culprit.relations.includes(h.relation)) : holders
  const who = describeHolders(mine.length ? mine : holders)
  const pg = error as PgErrorLike
  return new MigrationSqlError(
    'LOCK_TIMEOUT',
    who ? `${pg.message}: ${who}` : pg.message,
    fileName,
    text,
    culprit?.start,
    {
      sqlState: pg.code,
      detail: pg.detail ?? (who ? `${who[0]!.toUpperCase()}${who.slice(1)}` : undefined),
      hint: pg.hint,
      where: pg.where,
    },
    error,
  )
}

/**
 * Turns a failed batch into an error with line:column. PostgreSQL gives a position for
 * parse-analysis errors; for the rest (e.g. "relation already exists") replay the file's
 * statements one by one in a transaction that is rolled back, to find the one that fails,
 * with the file's `lock_timeout` and `statement_timeout`.
 */
async function explain(
  db: Kysely<unknown>,
  error: unknown,
  fileName: string,
  text: string,
  batch: string,
  offset: number,
  statements: readonly SqlStatement[],
  skip: (s: SqlStatement) => boolean,
  limits: StatementTimeouts,
): Promise<MigrationError> {
  const position = Number((error as PgErrorLike).position)
  if (position > 0) {
    // PostgreSQL counts characters (code points) from 1 in the query it was sent.
    const at = indexOfCodePoint(batch, position - 1) - offset
    return toMigrationError(error, fileName, text, at >= 0 && at < text.length ? at : undefined)
  }
  if (isLockTimeout(error))
    return lockTimeoutError(
      db,
      error,
      fileName,
      text,
      statements.filter((s) => !skip(s)),
    )
  const sqlState = isServerError(error) ? error.code : undefined
  if (!worthLocating(sqlState)) return toMigrationError(error, fileName)
  // The replay runs under the file's limits (SET LOCAL ends with the rollback), so locating
  // never waits on an application's table longer than the file itself was allowed to.
  const [begin, end] = db.isTransaction
    ? [`SAVEPOINT wukong_locate;\n${limitSettings(limits, 'LOCAL')}`, 'ROLLBACK TO SAVEPOINT wukong_locate']
    : [`BEGIN;\n${limitSettings(limits, 'LOCAL')}`, 'ROLLBACK']
  let culprit: SqlStatement | undefined
  try {
    await sql.raw(begin).execute(db)
    for (const statement of statements) {
      if (skip(statement)) continue
      try {
        await sql.raw(statement.text).execute(db)
      } catch (replayed) {
        // A statement that only timed out in the replay is not the one that failed.
        if (worthLocating(isServerError(replayed) ? replayed.code : undefined)) culprit = statement
        break
      }
    }
  } catch {
    // Locating is best effort; the original error is what matters.
  } finally {
    await sql
      .raw(end)
      .execute(db)
      .catch(() => {})
  }
  return toMigrationError(error, fileName, text, culprit?.start)
}

interface IndexState {
  readonly oid: number
  readonly name: string
  readonly valid: boolean
}

/** The indexes on the tables these statements build indexes on that are invalid now. */
async function invalidIndexes(db: Kysely<unknown>, builds: readonly SqlStatement[]): Promise<Set<number>> {
  const tables = [...new Set(builds.map((s) => s.concurrentIndex!.table))]
  if (tables.length === 0) return new Set()
  const { rows } = await sql<{ oid: number }>`
    select i.indexrelid::int8 as oid from pg_index i
    where not i.indisvalid and i.indrelid = any(array(select to_regclass(t) from unnest(${sql.val(tables)}::text[]) t))`.execute(
    db,
  )
  return new Set(rows.map((r) => Number(r.oid)))
}

/** The named index on its table (the table's schema), if it exists. */
async function indexNamed(db: Kysely<unknown>, index: ConcurrentIndex): Promise<IndexState | undefined> {
  if (index.name === undefined) return undefined
  const { rows } = await sql<{ oid: number; name: string; valid: boolean }>`
    select c.oid::int8 as oid, format('%I.%I', n.nspname, c.relname) as name, i.indisvalid as valid
    from pg_class t
    join pg_class c on c.relnamespace = t.relnamespace and c.relname = ${index.name}
    join pg_namespace n on n.oid = c.relnamespace
    join pg_index i on i.indexrelid = c.oid and i.indrelid = t.oid
    where t.oid = to_regclass(${index.table})`.execute(db)
  const row = rows[0]
  return row ? { oid: Number(row.oid), name: row.name, valid: row.valid } : undefined
}

/**
 * The documented rule for a leftover of an interrupted build: an INVALID index with the name a
 * `CREATE INDEX CONCURRENTLY` is about to build, on that statement's table, is dropped
 * (`DROP INDEX CONCURRENTLY`) first. An invalid index is never used by queries, yet would make
 * `IF NOT EXISTS` skip the build, or make the build fail as a duplicate name.
 */
async function dropInvalidLeftover(db: Kysely<unknown>, index: ConcurrentIndex): Promise<void> {
  const existing = await indexNamed(db, index)
  if (existing && !existing.valid) await sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${existing.name}`).execute(db)
}

/**
 * After a no-transaction file, before its ledger row: each index its `CREATE INDEX
 * CONCURRENTLY` statements name must exist and be valid, and no new invalid index may have
 * appeared on their tables. Else `INVALID_INDEX` with the SQL that repairs it.
 */
async function assertIndexesValid(
  db: Kysely<unknown>,
  file: MigrationFile,
  builds: readonly SqlStatement[],
  before: ReadonlySet<number>,
): Promise<void> {
  if (builds.length === 0) return
  const bad: { statement?: SqlStatement; name: string }[] = []
  const missing: SqlStatement[] = []
  for (const statement of builds) {
    const index = await indexNamed(db, statement.concurrentIndex!)
    if (index && !index.valid) bad.push({ statement, name: index.name })
    // IF NOT EXISTS skips when any relation of the schema has the name, not only this index.
    if (!index && statement.concurrentIndex!.name !== undefined) missing.push(statement)
  }
  const gone = missing[0]
  if (gone) {
    const at = lineColumnAt(file.text, gone.start)
    const { name, table } = gone.concurrentIndex!
    throw new MigrationError(
      'INVALID_INDEX',
      `no index "${name}" exists on ${table} after the file ran ` +
        '(another relation of that schema has the name, so IF NOT EXISTS skipped the build); the file is not recorded as applied; ' +
        'rename the index in the file, or drop the other relation',
      { file: file.fileName, line: at.line, column: at.column },
    )
  }
  const tables = [...new Set(builds.map((s) => s.concurrentIndex!.table))]
  const { rows } = await sql<{ oid: number; name: string }>`
    select i.indexrelid::int8 as oid, format('%I.%I', n.nspname, c.relname) as name
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where not i.indisvalid and i.indrelid = any(array(select to_regclass(t) from unnest(${sql.val(tables)}::text[]) t))`.execute(
    db,
  )
  for (const row of rows) {
    if (!before.has(Number(row.oid)) && !bad.some((b) => b.name === row.name)) bad.push({ name: row.name })
  }
  if (bad.length === 0) return
  const first = bad[0]!
  const at = first.statement ? lineColumnAt(file.text, first.statement.start) : undefined
  const repair = bad.map((b) => `DROP INDEX CONCURRENTLY IF EXISTS ${b.name};`).join(' ')
  throw new MigrationError(
    'INVALID_INDEX',
    `index ${bad.map((b) => b.name).join(', ')} is INVALID after the file ran ` +
      '(a concurrent build was interrupted or failed), so the file is not recorded as applied; ' +
      `repair: ${repair} then run migrate again`,
    { file: file.fileName, line: at?.line, column: at?.column },
  )
}
