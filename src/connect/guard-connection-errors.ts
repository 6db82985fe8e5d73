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
 * Keeps a dropped connection (a server restart, a forced `DROP DATABASE`, a pooler timeout) from
 * ending the process: pg emits it as an `'error'` event, uncaught without a listener, on the pool
 * or the client. The next query on it still fails. On a pool it also guards each client it opens.
 */
export function guardConnectionErrors<T extends ConnectionErrorSource>(target: T): T {
  target.on('error', ignore)
  ;(target as unknown as ConnectEvents).on('connect', (client) => client?.on('error', ignore))
  return target
}
