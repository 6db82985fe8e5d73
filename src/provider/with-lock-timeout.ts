import { sql, type Kysely } from 'kysely'

import { LEDGER_TABLES } from './ledger.js'
import { describeHolders, lockHolders } from './lock-holders.js'
import { MigrationError } from '../errors/migration-error.js'
import { SQLSTATE, errorCode } from '../errors/sql-state.js'

// A session holding a ledger table fails the run with LOCK_TIMEOUT naming it; `preset`: the session connected with it.
export async function withLockTimeout<T>(
  db: Kysely<any>,
  ms: number,
  body: (db: Kysely<any>) => Promise<T>,
  options: { readonly sameConnection?: boolean; readonly preset?: boolean } = {},
): Promise<T> {
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
  // Within the Migrator's own connection, a nested connection() would wait for it forever.
  return db.isTransaction || options.sameConnection ? run(db) : db.connection().execute(run)
}

async function explainLockTimeout(db: Kysely<any>, error: unknown, ms: number): Promise<unknown> {
  if (errorCode(error) !== SQLSTATE.LOCK_NOT_AVAILABLE) return error
  const holders = await lockHolders(db, LEDGER_TABLES).catch(() => [])
  const who = describeHolders(holders) ?? `another session held one of ${LEDGER_TABLES.join(', ')}`
  const advice = 'no file was applied: end that session or its transaction, or raise the lock timeout'
  const reason = `waited ${ms} ms (the lock timeout) to read or create the migration ledger, and ${who}; ${advice}`
  return new MigrationError('LOCK_TIMEOUT', reason, { cause: error })
}
