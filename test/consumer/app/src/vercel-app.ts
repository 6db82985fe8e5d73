// An app whose db comes from @vercel/postgres-kysely (kysely 0.29 through the package manager's override).
import { createKysely } from '@vercel/postgres-kysely'
import type { Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { MigrationRunner, SqlFileMigrationProvider, type Database } from '@wukong/adapter-vercel'

export async function boot(): Promise<number | null> {
  const db: Kysely<Database> = createKysely<Database>()
  const { currentVersion } = await new MigrationRunner({ db }).migrate()
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(), disableTransactions: true })
  const { error } = await migrator.migrateToLatest()
  if (error) throw error
  await db.selectFrom('sessions').select('id').execute()
  return currentVersion
}
