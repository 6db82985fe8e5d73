import pg from 'pg'

import { guardConnectionErrors } from './guard-connection-errors.js'

const SOCKET_CLOSE_TIMEOUT_MS = 5_000

// end() waits for the sockets to close: pg's resolves while backends still run, which a DROP DATABASE … FORCE then errors.
export class GuardedPool extends pg.Pool {
  readonly #open = new Set<unknown>()
  #whenClosed: (() => void)[] = []

  constructor(config?: pg.PoolConfig) {
    super(config)
    guardConnectionErrors(this)
    this.on('connect', (client) => this.#open.add(client))
    // pg-pool emits 'remove' once the client's socket has closed.
    this.on('remove', (client) => {
      this.#open.delete(client)
      if (this.#open.size === 0) for (const resolve of this.#whenClosed.splice(0)) resolve()
    })
  }

  /** Destroys every socket at once, so queries stuck on a peer that stopped answering fail now. */
  sever(): void {
    for (const client of this.#open)
      (client as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
  }

  override end(): Promise<void>
  override end(callback: () => void): void
  override end(callback?: () => void): Promise<void> | void {
    const ended = super.end().then(() => this.#socketsClosed())
    if (!callback) return ended
    ended.then(callback, callback)
  }

  #socketsClosed(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      // Not unref'd: an awaiting caller must be resumed even when nothing else keeps the process alive.
      const timer = setTimeout(resolve, SOCKET_CLOSE_TIMEOUT_MS)
      this.#whenClosed.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
