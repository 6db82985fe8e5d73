/** Anything that reports a failed connection as an `'error'` event: a pg `Pool` or `Client`, or a pool like them. */
export interface ConnectionErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown
}

// What a pool passes to its 'connect' listeners; a `Client` passes nothing.
interface ConnectEvents {
  on(event: 'connect', listener: (client?: ConnectionErrorSource) => void): unknown
}

const ignore = (): void => {}

/**
 * Keeps a dropped connection from ending the process. node-postgres reports a connection that
 * fails (a server restart, `DROP DATABASE … WITH (FORCE)`, a pooler timeout,
 * `idle_in_transaction_session_timeout`) as an `'error'` event: on the pool for an idle client,
 * on the client itself for one checked out or a plain `Client`. An `'error'` event without a
 * listener is an uncaught exception, and neither Kysely nor `@vercel/postgres-kysely` adds one.
 * The failure still reaches whoever uses the connection next, as a rejected query, and a pool
 * replaces a broken client.
 *
 * Give it every pool and client you make: on a pool it also guards each client the pool opens.
 */
export function guardConnectionErrors<T extends ConnectionErrorSource>(target: T): T {
  target.on('error', ignore)
  ;(target as unknown as ConnectEvents).on('connect', (client) => client?.on('error', ignore))
  return target
}
