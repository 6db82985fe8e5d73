import { sql, type Kysely } from 'kysely'

import { assertAdoptable } from './adoption-check.js'
import { LEDGER_TABLES, ledgerIntegritySql, type LedgerRow, type RunLedger } from './ledger.js'
import type { MigrationDownFile, MigrationFile } from './migration-file.js'
import type { StatementTimeouts } from './migration-timeouts.js'
import { MigrationError } from '../errors/migration-error.js'
import {
  codeForServerError,
  isServerError,
  MigrationSqlError,
  toMigrationError,
  worthLocating,
  type PgErrorLike,
} from './migration-sql-error.js'
import { describeHolders, lockHolders, type LockHolder } from './lock-holders.js'
import type { ConcurrentIndex, SqlStatement } from './parse-migration-sql.js'
import { indexOfCodePoint, lineColumnAt, literal } from './sql-text.js'
import { SQLSTATE } from '../errors/sql-state.js'

/** What happened to one file; `adopted` (the old runner applied it) and `healed` (Kysely's row added) ran no SQL. */
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

/** The SQL a step runs: a file or its down file. */
type SqlFile = Pick<MigrationDownFile, 'fileName' | 'text' | 'sql'>

/** A file for {@link applyUpBatch}, with the timestamp of its `kysely_migration` row. */
export interface BatchedFile {
  readonly file: MigrationFile
  readonly timestamp: string
}

// A file's SQL and ledger row in one round trip and transaction; with `timestamp`, Kysely's row too.
export async function applyUp(
  db: Kysely<any>,
  file: MigrationFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
  files: readonly MigrationFile[],
  timestamp?: string,
): Promise<ApplyEvent> {
  const started = performance.now()
  const done = (kind: ApplyKind, atomic: boolean) => applyEvent(kind, file, atomic, performance.now() - started)
  const record = timestamp === undefined ? undefined : kyselyInsert(ledger, file.name, timestamp)
  const existing = ledger.rows.get(file.version)
  if (existing) return done(await adopt(db, file, existing, ledger, files, record), existing.atomic ?? true)

  const table = ledger.home.ledger
  if (!file.sql.transactional) {
    const builds = file.sql.statements.filter((s) => s.concurrentIndex)
    const invalidBefore = new Set((await invalidIndexes(db, builds)).map((i) => i.oid))
    await runOneByOne(db, file, ledger, limits)
    // Before the ledger row: an index left invalid must not be recorded as built.
    await assertIndexesValid(db, file, builds, invalidBefore)
    try {
      await sql.raw(ledgerInsert(table, file, false, `${Math.round(performance.now() - started)}`)).execute(db)
    } catch (error) {
      if (!isLedgerConflict(error)) throw toMigrationError(error, file.fileName)
      return done(await adoptConcurrent(db, file, ledger, files, record), false)
    }
    ledger.rows.set(file.version, pendingRow(file, false))
    // Kysely's row on its own: schema_versions says the file ran even when this write fails (the next run heals it).
    if (record) await recordInKysely(db, file, record, ledger)
    await assertLedgersIntact(db, file, ledger)
    return done('applied', false)
  }
  // The ledger row first: a concurrent migrator that slipped past the lock blocks on it, then fails.
  const elapsed = executionMs(table, file, 'pg_catalog.statement_timestamp()')
  try {
    await runAtomically(db, file, file, ledger, limits, {
      head: `${ledgerInsert(table, file, true, 'NULL')};\n`,
      tail: record ? `${elapsed};\n${record}` : elapsed,
      row: pendingRow(file, true),
    })
  } catch (error) {
    if (!isLedgerConflict(error)) throw error
    return done(await adoptConcurrent(db, file, ledger, files, record), true)
  }
  return done('applied', true)
}

// Files in one round trip, each its own transaction; returns how many committed (applyUp then locates the failure).
export async function applyUpBatch(
  db: Kysely<any>,
  batch: readonly BatchedFile[],
  ledger: RunLedger,
  limits: StatementTimeouts,
  onCommitted?: (event: ApplyEvent) => void,
): Promise<number> {
  const started = performance.now()
  const table = ledger.home.ledger
  // Each block's integrity check sees the ledgers as the blocks before it left them.
  const view = copyOf(ledger)
  const text = batch
    .map(({ file, timestamp }) => {
      commit(view, file, pendingRow(file, true))
      // applied_at is the file's own start, so that execution_ms is the file's own time.
      return [
        'BEGIN;',
        `${limitSettings(limits, 'LOCAL')}${ledgerInsert(table, file, true, 'NULL', 'pg_catalog.clock_timestamp()')};`,
        blankLedgerInserts(file),
        ';',
        `${restoreSql(ledger, file)};`,
        `${executionMs(table, file, 'applied_at')};`,
        `${kyselyInsert(ledger, file.name, timestamp)};`,
        `${ledgerIntegritySql(view)};`,
        'COMMIT;',
      ].join('\n')
    })
    .join('\n')
  let done = batch.length
  try {
    await sql.raw(text).execute(db)
  } catch (error) {
    // The failing file's transaction is open and aborted; the files before it committed.
    await sql.raw('ROLLBACK').execute(db).catch(ignore)
    const wanted = batch.map((b) => b.file.version)
    const query = sql<{ version: number }>`select version from ${sql.raw(table)} where version = any(${wanted}::int[])`
    // When this fails the connection is gone: the batch's own error says why.
    const { rows } = await query.execute(db).catch(() => Promise.reject(error))
    const committed = new Set(rows.map((r) => r.version))
    done = batch.findIndex((b) => !committed.has(b.file.version))
    if (done < 0) done = batch.length
  }
  // Files of one batch share its wall time: each event reports an equal share.
  const share = (performance.now() - started) / batch.length
  for (const { file } of batch.slice(0, done)) {
    commit(ledger, file, pendingRow(file, true))
    onCommitted?.(applyEvent('applied', file, true, share))
  }
  return done
}

/** Runs a file's down SQL and deletes its ledger rows, atomically. The caller checks `file.down` exists. */
export async function applyDown(
  db: Kysely<any>,
  file: MigrationFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
): Promise<ApplyEvent> {
  const started = performance.now()
  const down = file.down!
  // Under Kysely's Migrator, Kysely deletes its own row.
  const forget =
    `DELETE FROM ${ledger.home.ledger} WHERE version = ${file.version}` +
    (ledger.kysely ? `;\nDELETE FROM ${ledger.home.kysely} WHERE name = ${literal(file.name)}` : '')
  if (down.sql.transactional) {
    await runAtomically(db, file, down, ledger, limits, { head: '', tail: forget, row: undefined })
  } else {
    await runOneByOne(db, down, ledger, limits)
    await sql.raw(forget).execute(db)
    commit(ledger, file, undefined)
    await assertLedgersIntact(db, file, ledger)
  }
  return applyEvent('reverted', file, down.sql.transactional, performance.now() - started, down.fileName)
}

const ignore = (): void => {}

function applyEvent(
  kind: ApplyKind,
  file: MigrationFile,
  atomic: boolean,
  durationMs: number,
  fileName = file.fileName,
): ApplyEvent {
  return Object.freeze({ kind, version: file.version, name: file.name, fileName, atomic, durationMs })
}

function limitSettings(limits: StatementTimeouts, scope: 'LOCAL' | 'SESSION'): string {
  return `SET ${scope} lock_timeout = ${limits.lockMs};\nSET ${scope} statement_timeout = ${limits.statementMs};\n`
}

/** The run's baseline, plus `DISCARD TEMP` after a file that made temporary objects. */
function restoreSql(ledger: RunLedger, sqlFile: SqlFile): string {
  return sqlFile.sql.createsTemporary ? `${ledger.restoreSql};\nDISCARD TEMP` : ledger.restoreSql
}

// One simple-protocol query, one transaction (a savepoint in a caller's); a ledger conflict is rethrown for adoption.
async function runAtomically(
  db: Kysely<unknown>,
  file: MigrationFile,
  sqlFile: SqlFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
  step: { readonly head: string; readonly tail: string; readonly row: LedgerRow | undefined },
): Promise<void> {
  const after = copyOf(ledger)
  commit(after, file, step.row)
  const savepoint = db.isTransaction
  const start = `${savepoint ? 'SAVEPOINT wukong_migration_file;\n' : ''}${limitSettings(limits, 'LOCAL')}${step.head}`
  const batch =
    `${start}${blankLedgerInserts(sqlFile)}\n;\n${restoreSql(ledger, sqlFile)};\n${step.tail};\n` +
    `${ledgerIntegritySql(after)}${savepoint ? ';\nRELEASE SAVEPOINT wukong_migration_file' : ''}`
  try {
    await sql.raw(batch).execute(db)
  } catch (error) {
    if (savepoint) await sql.raw('ROLLBACK TO SAVEPOINT wukong_migration_file').execute(db).catch(ignore)
    if (isLedgerConflict(error) && !savepoint) throw error
    throw await explain(db, error, sqlFile, batch, start.length, limits)
  }
  commit(ledger, file, step.row)
}

// Statement by statement; the session is restored (whatever the file SET) before any ledger write.
async function runOneByOne(
  db: Kysely<unknown>,
  sqlFile: SqlFile,
  ledger: RunLedger,
  limits: StatementTimeouts,
): Promise<void> {
  if (db.isTransaction) {
    const reason = `this file opted out of transactions (-- wukong:no-transaction) but the Migrator runs every migration in one transaction; use MigrationRunner, or new Migrator({ …, disableTransactions: true })`
    throw new MigrationError('NON_TRANSACTIONAL_IN_TRANSACTION', reason, { file: sqlFile.fileName })
  }
  await sql.raw(limitSettings(limits, 'SESSION')).execute(db)
  let failed = true
  try {
    for (const statement of sqlFile.sql.statements) {
      if (isLedgerInsert(sqlFile, statement)) continue
      if (statement.concurrentIndex) await dropInvalidLeftover(db, statement.concurrentIndex)
      await runOrExplain(db, sqlFile, statement)
    }
    failed = false
  } finally {
    // After a failed statement, its error is the one reported.
    const restore = sql.raw(restoreSql(ledger, sqlFile))
    await restore.execute(db).catch(failed ? ignore : undefined)
  }
}

/** The view with a file's transaction committed: its rows, or (`row` undefined) their absence. */
function commit(ledger: RunLedger, file: MigrationFile, row: LedgerRow | undefined): void {
  if (row) {
    ledger.rows.set(file.version, row)
    ledger.kysely?.add(file.name)
  } else {
    ledger.rows.delete(file.version)
    ledger.kysely?.delete(file.name)
  }
}

function copyOf(ledger: RunLedger): RunLedger {
  return { ...ledger, rows: new Map(ledger.rows), kysely: ledger.kysely && new Set(ledger.kysely) }
}

/** After a no-transaction file its statements have committed: a ledger it changed is reported, not rolled back. */
async function assertLedgersIntact(db: Kysely<unknown>, file: MigrationFile, ledger: RunLedger): Promise<void> {
  try {
    await sql.raw(ledgerIntegritySql(ledger)).execute(db)
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

async function adopt(
  db: Kysely<unknown>,
  file: MigrationFile,
  existing: LedgerRow,
  ledger: RunLedger,
  files: readonly MigrationFile[],
  record: string | undefined,
): Promise<ApplyKind> {
  if (existing.checksum !== null) {
    if (record) await sql.raw(record).execute(db)
    if (record) ledger.kysely?.add(file.name)
    return 'healed'
  }
  // A reused version number must not hide a missing schema; what later applied files drop is not expected.
  const later = files.filter((f) => f.version > file.version && ledger.rows.has(f.version))
  await assertAdoptable(db, file, later, existing.description)
  const stamp = `checksum = ${literal(file.checksum)}, file_name = ${literal(file.fileName)}, adopted_at = now()`
  const update = `UPDATE ${ledger.home.ledger} SET ${stamp}, atomic = coalesce(atomic, true) WHERE version = ${file.version}`
  await sql.raw(record ? `${update};\n${record}` : update).execute(db)
  ledger.rows.set(file.version, { ...existing, checksum: file.checksum, fileName: file.fileName })
  if (record) ledger.kysely?.add(file.name)
  return 'adopted'
}

// Another migrator committed this version after our read; this attempt rolled back whole, so its row is the truth.
async function adoptConcurrent(
  db: Kysely<unknown>,
  file: MigrationFile,
  ledger: RunLedger,
  files: readonly MigrationFile[],
  record: string | undefined,
): Promise<ApplyKind> {
  const { rows } = await sql<{ checksum: string | null; description: string }>`
    select checksum, description from ${sql.raw(ledger.home.ledger)} where version = ${file.version}`.execute(db)
  const { checksum = null, description = '' } = rows[0] ?? {}
  if (checksum !== null && checksum !== file.checksum) {
    const reason = `another migrator applied version ${file.version} with checksum ${checksum}, but this file's checksum is ${file.checksum}`
    throw new MigrationError('CHECKSUM_MISMATCH', reason, { file: file.fileName })
  }
  const row = { ...pendingRow(file, true), checksum, description }
  ledger.rows.set(file.version, row)
  return adopt(db, file, row, ledger, files, record)
}

// As Kysely's Migrator writes it; a row already there (recorded just before a crash) is kept.
function kyselyInsert(ledger: RunLedger, name: string, timestamp: string): string {
  return `INSERT INTO ${ledger.home.kysely} (name, timestamp) VALUES (${literal(name)}, ${literal(timestamp)}) ON CONFLICT (name) DO NOTHING`
}

/** Kysely's row for a file whose work and schema_versions row committed: a failure is `BOOKKEEPING_FAILED`. */
async function recordInKysely(db: Kysely<unknown>, file: MigrationFile, record: string, ledger: RunLedger) {
  try {
    await sql.raw(record).execute(db)
  } catch (error) {
    const cause = toMigrationError(error, file.fileName)
    const why = `applied (schema_versions records version ${file.version}), but Kysely could not record it in kysely_migration: ${cause.reason}`
    throw new MigrationError('BOOKKEEPING_FAILED', why, { file: file.fileName, sqlState: cause.sqlState, cause })
  }
  ledger.kysely?.add(file.name)
}

function pendingRow(file: MigrationFile, atomic: boolean): LedgerRow {
  const { version, description, checksum, fileName } = file
  return { version, description, appliedAt: null, checksum, fileName, executionMs: null, adoptedAt: null, atomic }
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

function executionMs(table: string, file: MigrationFile, since: string): string {
  return `UPDATE ${table} SET execution_ms = pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - ${since}) * 1000) WHERE version = ${file.version}`
}

function isLedgerInsert(sqlFile: SqlFile, statement: SqlStatement): boolean {
  return sqlFile.sql.ledgerInserts.some((i) => i.start === statement.start)
}

/** The file's text with its own `schema_versions` INSERTs turned into spaces (newlines kept). */
function blankLedgerInserts(sqlFile: SqlFile): string {
  let text = sqlFile.text
  for (const { start, end } of sqlFile.sql.ledgerInserts) {
    text = text.slice(0, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ') + text.slice(end)
  }
  return text
}

function isLedgerConflict(error: unknown): boolean {
  return isServerError(error) && error.code === SQLSTATE.UNIQUE_VIOLATION && error.constraint === 'schema_versions_pkey'
}

async function runOrExplain(db: Kysely<unknown>, sqlFile: SqlFile, statement: SqlStatement): Promise<void> {
  try {
    await sql.raw(statement.text).execute(db)
  } catch (error) {
    if (isLockTimeout(error)) throw await lockTimeoutError(db, error, sqlFile, [statement])
    const position = Number((error as PgErrorLike).position)
    const at = statement.start + (position > 0 ? indexOfCodePoint(statement.text, position - 1) : 0)
    throw toMigrationError(error, sqlFile.fileName, sqlFile.text, at)
  }
}

function isLockTimeout(error: unknown): boolean {
  return isServerError(error) && codeForServerError(error.code, error.message) === 'LOCK_TIMEOUT'
}

// PostgreSQL names neither statement nor holder of a lock timeout: both are found through pg_locks.
async function lockTimeoutError(
  db: Kysely<unknown>,
  error: unknown,
  sqlFile: SqlFile,
  candidates: readonly SqlStatement[],
): Promise<MigrationError> {
  const relations = [...new Set([...candidates.flatMap((s) => s.relations), ...LEDGER_TABLES])]
  const holders = await lockHolders(db, relations).catch((): LockHolder[] => [])
  const held = new Set(holders.map((h) => h.relation))
  const culprit = candidates.length === 1 ? candidates[0] : candidates.find((s) => s.relations.some((r) => held.has(r)))
  const mine = culprit ? holders.filter((h) => culprit.relations.includes(h.relation)) : holders
  const who = describeHolders(mine.length ? mine : holders)
  const pg = error as PgErrorLike
  const detail = pg.detail ?? (who ? `${who[0]!.toUpperCase()}${who.slice(1)}` : undefined)
  const server = { sqlState: pg.code, detail, hint: pg.hint, where: pg.where }
  const message = who ? `${pg.message}: ${who}` : pg.message
  return new MigrationSqlError('LOCK_TIMEOUT', message, sqlFile.fileName, sqlFile.text, culprit?.start, server, error)
}

// Line:column from PostgreSQL's position, else from replaying the statements in a transaction rolled back.
async function explain(
  db: Kysely<unknown>,
  error: unknown,
  sqlFile: SqlFile,
  batch: string,
  offset: number,
  limits: StatementTimeouts,
): Promise<MigrationError> {
  const { fileName, text } = sqlFile
  const position = Number((error as PgErrorLike).position)
  if (position > 0) {
    // PostgreSQL counts characters (code points) from 1 in the query it was sent.
    const at = indexOfCodePoint(batch, position - 1) - offset
    return toMigrationError(error, fileName, text, at >= 0 && at < text.length ? at : undefined)
  }
  const statements = sqlFile.sql.statements.filter((s) => !isLedgerInsert(sqlFile, s))
  if (isLockTimeout(error)) return lockTimeoutError(db, error, sqlFile, statements)
  if (!worthLocating(isServerError(error) ? error.code : undefined)) return toMigrationError(error, fileName)
  const [begin, end] = db.isTransaction
    ? ['SAVEPOINT wukong_locate', 'ROLLBACK TO SAVEPOINT wukong_locate']
    : ['BEGIN', 'ROLLBACK']
  let culprit: SqlStatement | undefined
  try {
    await sql.raw(`${begin};\n${limitSettings(limits, 'LOCAL')}`).execute(db)
    for (const statement of statements) {
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
    await sql.raw(end).execute(db).catch(ignore)
  }
  return toMigrationError(error, fileName, text, culprit?.start)
}

/** The invalid indexes on the tables these statements build indexes on. */
async function invalidIndexes(
  db: Kysely<unknown>,
  builds: readonly SqlStatement[],
): Promise<{ oid: number; name: string }[]> {
  const tables = [...new Set(builds.map((s) => s.concurrentIndex!.table))]
  if (tables.length === 0) return []
  const { rows } = await sql<{ oid: number; name: string }>`
    select i.indexrelid::int8 as oid, format('%I.%I', n.nspname, c.relname) as name
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where not i.indisvalid
      and i.indrelid = any(array(select to_regclass(t) from unnest(${sql.val(tables)}::text[]) t))`.execute(db)
  return rows.map((r) => ({ oid: Number(r.oid), name: r.name }))
}

/** The named index on its table (the table's schema), if it exists. */
async function indexNamed(
  db: Kysely<unknown>,
  index: ConcurrentIndex,
): Promise<{ name: string; valid: boolean } | undefined> {
  if (index.name === undefined) return undefined
  const { rows } = await sql<{ name: string; valid: boolean }>`
    select format('%I.%I', n.nspname, c.relname) as name, i.indisvalid as valid
    from pg_class t
    join pg_class c on c.relnamespace = t.relnamespace and c.relname = ${index.name}
    join pg_namespace n on n.oid = c.relnamespace
    join pg_index i on i.indexrelid = c.oid and i.indrelid = t.oid
    where t.oid = to_regclass(${index.table})`.execute(db)
  return rows[0]
}

// An interrupted build's INVALID index would make IF NOT EXISTS skip the build: it is dropped first.
async function dropInvalidLeftover(db: Kysely<unknown>, index: ConcurrentIndex): Promise<void> {
  const existing = await indexNamed(db, index)
  if (existing && !existing.valid) await sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${existing.name}`).execute(db)
}

// Before the ledger row: each concurrent build exists and is valid, else INVALID_INDEX with the repair.
async function assertIndexesValid(
  db: Kysely<unknown>,
  file: MigrationFile,
  builds: readonly SqlStatement[],
  before: ReadonlySet<number>,
): Promise<void> {
  if (builds.length === 0) return
  const bad: { statement?: SqlStatement; name: string }[] = []
  for (const statement of builds) {
    const index = await indexNamed(db, statement.concurrentIndex!)
    if (index && !index.valid) bad.push({ statement, name: index.name })
    // IF NOT EXISTS skips when any relation of the schema has the name, not only this index.
    if (!index && statement.concurrentIndex!.name !== undefined) {
      const { name, table } = statement.concurrentIndex!
      throw new MigrationError(
        'INVALID_INDEX',
        `no index "${name}" exists on ${table} after the file ran ` +
          '(another relation of that schema has the name, so IF NOT EXISTS skipped the build); the file is not recorded as applied; ' +
          'rename the index in the file, or drop the other relation',
        { file: file.fileName, ...lineColumnAt(file.text, statement.start) },
      )
    }
  }
  for (const index of await invalidIndexes(db, builds)) {
    if (!before.has(index.oid) && !bad.some((b) => b.name === index.name)) bad.push({ name: index.name })
  }
  const [first] = bad
  if (!first) return
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
