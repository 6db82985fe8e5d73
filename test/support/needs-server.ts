import type { TestServer } from '../../src/testing/test-server.js'

/**
 * Why a suite that needs a real PostgreSQL server (concurrency, PgBouncer, crash and kill, TLS,
 * WebSocket, a second client by URL, …) is skipped on this machine, printed with the suite's
 * name; undefined where it runs. With CI=true or REQUIRE_PG_SERVER=1 there is no skipping:
 * resolveTestServer() fails instead.
 *
 * @example
 * ```ts
 * describe.skipIf(needsServer(server, 'timeouts'))('timeouts', () => {})
 * ```
 */
export function needsServer(server: TestServer, suite: string): string | undefined {
  const reason = server.adminUrl ? undefined : (server.skipReason ?? 'no PostgreSQL server')
  if (reason) console.warn(`skipped "${suite}": ${reason}`)
  return reason
}
