import pg from 'pg'

import { guardConnectionErrors } from './guard-connection-errors.js'

/** Default longest wait of {@link GuardedPool}'s `end()` for its sockets to close. */
export const DEFAULT_SOCKET_CLOSE_TIMEOUT_MS = 5_000

/** Options of {@link GuardedPool} beyond `pg.PoolConfig`. */
export interface GuardedPoolOptions {
  /** Longest wait of `end()` for the server to close the pool's connections. Default 5 000 ms. */
  readonly socketCloseTimeoutMs?: number
}

/**
 * A `pg.Pool` that cannot crash the process and whose `end()` means closed:
 * - its connections are guarded ({@link guardConnectionErrors});
 * - `end()` resolves once the server has closed every connection the pool opened (bounded by
 *   `socketCloseTimeoutMs`). node-postgres' own `end()` resolves as soon as it has asked its
 *   clients to close, while their backends may still be running: a `DROP DATABASE … WITH
 *   (FORCE)` right after it then terminates them, and a backend that is terminated before it
 *   reads the goodbye sends an error (57P01) to a client that is no longer watched.
 */
export class GuardedPool extends pg.Pool {
  readonly #open = new Set<unknown>()
  readonly #closeTimeoutMs: number
  #whenClosed: (() => void)[] = []

  constructor(config?: pg.PoolConfig, options: GuardedPoolOptions = {}) {
    super(config)
    this.#closeTimeoutMs = options.socketCloseTimeoutMs ?? DEFAULT_SOCKET_CLOSE_TIMEOUT_MS
    guardConnectionErrors(this)
    this.on('connect', (client) => this.#open.add(client))
    // pg-pool emits 'remove' once the client's socket has closed (the callback of client.end()).
    this.on('remove', (client) => {
      this.#open.delete(client)
      if (this.#open.size === 0) for (const resolve of this.#whenClosed.splice(0)) resolve()
    })
  }

  /**
   * Destroys every socket of the pool at once: queries in flight fail with a lost connection
   * and the server ends their sessions. For a peer that stopped answering, or a run given up.
   */
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
      // Not unref'd: whoever awaits end() must be resumed when the bound passes, even when
      // nothing else keeps the process alive (an unref'd timer would let Node exit mid-await).
      const timer = setTimeout(resolve, this.#closeTimeoutMs)
      this.#whenClosed.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
