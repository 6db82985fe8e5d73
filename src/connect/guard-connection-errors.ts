/** The part of a pg `Pool` that {@link guardConnectionErrors} needs. */
export interface ErrorEmittingPool {
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'connect', listener: (client: { on(event: 'error', listener: (error: Error) => void): unknown }) => void): unknown
}

/**
 * Keeps a dropped connection from ending the process. node-postgres reports a connection that
 * fails (a server restart, a pooler timeout, `idle_in_transaction_session_timeout`, a database
 * dropped `WITH (FORCE)`) as an `error` event, on the pool for an idle client and on the
 * client itself for one checked out, and an `error` event without a listener is an uncaught
 * exception. Kysely adds no listener. The failure still reaches whoever uses the connection
 * next, as a rejected query, and the pool replaces a broken client.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 *
 * const pool = new pg.Pool({ connectionString: process.env.POSTGRES_URL })
 * guardConnectionErrors(pool)
 * ```
 */
export function guardConnectionErrors(pool: ErrorEmittingPool): void {
  const ignore = (): void => {}
  pool.on('error', ignore)
  pool.on('connect', (client) => client.on('error', ignore))
}
