import { PostgresAdapter, PostgresDialect, type DialectAdapter } from 'kysely'
import { GuardedPool } from '../../src/connect/index.js'

/**
 * pg's dialect with an adapter that says it cannot run DDL in transactions, as
 * @vercel/postgres-kysely's does: the Migrator then hands migrations a bare connection.
 */
export class NonTransactionalDdlDialect extends PostgresDialect {
  constructor(url: string) {
    super({ pool: new GuardedPool({ connectionString: url, max: 2 }) })
  }

  override createAdapter(): DialectAdapter {
    return new (class extends PostgresAdapter {
      override get supportsTransactionalDdl(): boolean {
        return false
      }
    })()
  }
}
