import { sql, type Kysely } from 'kysely'

import { LEDGER_TABLES } from './ledger.js'
import { describeHolders, lockHolders } from './lock-holders.js'
import { MigrationError } from '../errors/migration-error.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

/**
 * Runs the tool's own reads and writes of the bookkeeping tables (`body`, on one connection
 * of `db`) with `lock_timeout` set to `lockTimeoutMs`, and restores the setting afterwards.
 * Another session holding one of those tables (a long `LOCK TABLE schema_versions`, an
 * admin's open transaction) then fails the run with `LOCK_TIMEOUT` naming that session,
 * instead of the run waiting for it without limit. `0` waits forever (PostgreSQL's meaning);
 * undefined leaves the server's setting. `sameConnection`: `db` is already one connection
 * (the one Kysely's Migrator hands to migrations). `preset`: the session already has this
 * `lock_timeout` (set when it connected), so it is neither set nor restored: one round trip.
 */
export async function withLockTimeout<T>(
  db: Kysely<any>,
  lockTimeoutMs: number | undefined,
  body: (db: Kysely<any>) => Promise<T>,
  options: { readonly sameConnection?: boolean; readonly preset?: boolean } = {},
): Promise<T> {
  if (lockTimeoutMs === undefined) return body(db)
  const ms = Math.max(0, Math.trunc(lockTimeoutMs))
  if (options.preset) {
    return body(db).catch(async (error: unknown) => {
      throw await explainLockTimeout(db, error, ms)
    })
  }
  const run = async (conn: Kysely<unknown>): Promise<T> => {
    const { rows } = await sql<{ previous: string }>`
      select current_setting('lock_timeout') as previous, set_config('lock_timeout', ${`${ms}ms`}, false)`.execute(conn)
    try {
      return await body(conn)
    } catch (error) {
      throw await explainLockTimeout(conn, error, ms)
    } finally {
      await sql`select set_config('lock_timeout', ${rows[0]!.previous}, false)`.execute(conn).catch(() => {})
    }
  }
  // A transaction is one connection already (and has no connection() of its own); so is the
  // connection Kysely's Migrator hands to migrations, where a nested connection() would wait
  // for the Migrator's own use of it to end.
  return db.isTransaction || options.sameConnection ? run(db) : db.connection().execute(run)
}

async function explainLockTimeout(db: Kysely<any>, error: unknown, ms: number): Promise<unknown> {
  if (errorCode(error) !== SQLSTATE.LOCK_NOT_AVAILABLE) return error
  const holders = await lockHolders(db, LEDGER_TABLES).catch(() => [])
  const who =
    describeHolders(holders) ?? 'another session held one of schema_versions, kysely_migration, kysely_migration_lock'
  return new MigrationError(
    'LOCK_TIMEOUT',
    `waited ${ms} ms (the lock timeout) to read or create the migration ledger, and ${who}; ` +
      'no file was applied: end that session or its transaction, or raise the lock timeout',
    { cause: error },
  )
}
