import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

/**
 * A Kysely instance over a pg pool that survives its connections being dropped, as an
 * application's pool must: pg emits `error` on a client whose server went away, and an
 * `error` event without a listener crashes the process. Here every client, idle or checked
 * out, has a listener, so a dropped connection surfaces only as the failed query's error.
 * (What `MigrationRunner({ url })` builds itself is tested separately.)
 */
export function robustKysely(url: string, max = 4): Kysely<unknown> {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
}
