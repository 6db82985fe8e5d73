import type { TestDatabaseHandle, TestServer } from '../../src/testing/test-server.js'

/**
 * Fresh databases for many short trials. `release` drops a database in the background, one at
 * a time: DROP DATABASE checkpoints, which can take seconds on a busy shared server, and that
 * wait belongs to no trial. `closeAll` (in afterAll) drops whatever is left and waits.
 */
export class TrialDatabases {
  readonly #server: TestServer
  readonly #open = new Set<TestDatabaseHandle>()
  #drops: Promise<void> = Promise.resolve()

  constructor(server: TestServer) {
    this.#server = server
  }

  async create(): Promise<TestDatabaseHandle> {
    const handle = await this.#server.createDatabase()
    this.#open.add(handle)
    return handle
  }

  release(handle: TestDatabaseHandle): void {
    if (!this.#open.delete(handle)) return
    this.#drops = this.#drops.then(() => handle.destroy()).catch(() => {})
  }

  async closeAll(): Promise<void> {
    for (const handle of [...this.#open]) this.release(handle)
    await this.#drops
  }
}
