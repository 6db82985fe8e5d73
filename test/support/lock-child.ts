// A migrator in its own process, for kill tests: migrates `folder` on `url` through
// openMigrationDatabase (its lock chosen for the URL; `pooled` forces the transaction lock) and
// prints one line per applied file, so the parent can SIGKILL it at a chosen moment.
import { Migrator } from 'kysely/migration'

import { openMigrationDatabase } from '../../src/connect/index.js'
import { SqlFileMigrationProvider } from '../../src/index.js'

const [url, folder, pooled] = process.argv.slice(2) as [string, string, string | undefined]
const target = await openMigrationDatabase({ url, env: {}, pooled: pooled === 'pooled' ? true : undefined })
process.stdout.write(`lock ${target.lock}\n`)
const provider = new SqlFileMigrationProvider({
  migrationFolder: folder,
  onApply: (event) => process.stdout.write(`applied ${event.version}\n`),
})
const { error } = await new Migrator({ db: target.db, provider, ...target.migratorOptions }).migrateToLatest()
await target.close()
process.stdout.write(error ? `error ${String(error)}\n` : 'done\n')
