// Kysely's own Migrator with the package's provider, on a database the app made.
import { Migrator } from 'kysely/migration'
import { SqlFileMigrationProvider, createDatabase } from '@wukong/adapter-vercel'

const db = await createDatabase({ url: process.env.DATABASE_URL })
try {
  // disableTransactions: each file commits on its own; 005 builds its indexes CONCURRENTLY.
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(), disableTransactions: true })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  console.log(JSON.stringify({ results: (results ?? []).map((r) => `${r.migrationName}:${r.status}`) }))
} finally {
  await db.destroy()
}
