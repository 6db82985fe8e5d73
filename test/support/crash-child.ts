// Migrates a folder and SIGKILLs itself right after file `KILL_AFTER` has committed its SQL
// and ledger row, before Kysely records it in kysely_migration: the crash window.
import { Kysely, PostgresDialect } from 'kysely'
import { Migrator } from 'kysely/migration'

import { SqlFileMigrationProvider } from '../../src/index.js'
import { GuardedPool } from '../../src/connect/index.js'

const [url, folder, killAfter] = process.argv.slice(2) as [string, string, string]
const db = new Kysely({ dialect: new PostgresDialect({ pool: new GuardedPool({ connectionString: url }) }) })
const provider = new SqlFileMigrationProvider({
  migrationFolder: folder,
  onApply: (event) => {
    if (event.version === Number(killAfter)) process.kill(process.pid, 'SIGKILL')
  },
})
await new Migrator({ db, provider, disableTransactions: true }).migrateToLatest()
await db.destroy()
