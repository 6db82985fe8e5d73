import { Kysely, PostgresDialect } from 'kysely'

import { GuardedPool } from '../../src/connect/index.js'

/**
 * A Kysely instance over a pool that survives its connections being dropped, as an
 * application's pool must (a `GuardedPool`: see `guardConnectionErrors`), so a dropped
 * connection surfaces only as the failed query's error. (What `MigrationRunner({ url })`
 * builds itself is tested separately.)
 */
export function robustKysely(url: string, max = 4): Kysely<unknown> {
  return new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new GuardedPool({ connectionString: url, max }) }),
  })
}
