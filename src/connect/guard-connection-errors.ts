/** Anything that reports a failed connection as an `'error'` event: a pg `Pool` or `Client`, or a pool like them. */
export interface ConnectionErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown
}

// What a pool passes to its 'connect' listeners; a `Client` passes nothing.
interface ConnectEvents {
  on(event: 'connect', listener: (client?: ConnectionErrorSource) => void): unknown
}

const ignore = (): void => {}

// pg emits a dropped connection as an 'error' event that ends the process when unheard; the next query still fails.
export function guardConnectionErrors<T extends ConnectionErrorSource>(target: T): T {
  target.on('error', ignore)
  ;(target as unknown as ConnectEvents).on('connect', (client) => client?.on('error', ignore))
  return target
}
