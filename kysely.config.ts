/**
 * kysely-ctl (https://github.com/kysely-org/kysely-ctl) driving the Wukong migrations: its
 * `migrate:*` commands run Kysely's Migrator with our SqlFileMigrationProvider, so
 * `npx kysely migrate:latest`, `migrate:list`, `migrate:up`, `migrate:down` (files with a
 * `.down.sql`) and `migrate:rollback --all` keep the `schema_versions` ledger in step with
 * `kysely_migration`, exactly as `wukong-migrate` does.
 *
 * The database is chosen as by `wukong-migrate` (openMigrationDatabase): POSTGRES_URL_NON_POOLING,
 * else POSTGRES_URL, else POSTGRES_PRISMA_URL, else DATABASE_URL, else the embedded PGlite
 * database (not where the process looks like production: NO_DATABASE_URL); kysely-ctl also
 * loads a `.env` file next to this one. A pooled URL gets the transaction-scoped migration lock,
 * so it is safe behind PgBouncer too.
 *
 * WUKONG_MIGRATIONS_DIR points at another folder of NNN_name.sql files (default: the package's
 * migrations/). `migrate:make` writes TypeScript migrations, which this provider does not read:
 * create files with `wukong-migrate create <name>` instead.
 *
 * @example
 * ```sh
 * POSTGRES_URL_NON_POOLING=postgres://… npx kysely migrate:latest
 * npx kysely migrate:list
 * ```
 */
import { defineConfig } from 'kysely-ctl'

import { openMigrationDatabase } from './src/connect/index.js'
import { SqlFileMigrationProvider } from './src/provider/index.js'

export default defineConfig({
  kysely: async () => (await openMigrationDatabase()).db,
  migrations: {
    provider: new SqlFileMigrationProvider({ migrationFolder: process.env['WUKONG_MIGRATIONS_DIR'] || undefined }),
    // Each file commits with its ledger row on its own (see MigrationDatabase.migratorOptions).
    disableTransactions: true,
  },
})
