// App code type-checked against the package's declarations under the app's own tsconfig.
import type { Kysely, Selectable } from 'kysely'
import { Migrator } from 'kysely/migration'
import {
  MigrationError,
  MigrationRunner,
  SqlFileMigrationProvider,
  createDatabase,
  openMigrationDatabase,
  type Database,
  type MigrateResult,
} from '@wukong/adapter-vercel'
import { createTestDatabase, withRollback, type TestDatabase } from '@wukong/adapter-vercel/testing'

export async function boot(url: string | undefined): Promise<MigrateResult> {
  const runner = new MigrationRunner({ url, onApply: (event) => console.log(event.name) })
  try {
    return await runner.migrate()
  } catch (error) {
    if (error instanceof MigrationError) console.error(error.code, error.file, error.line)
    throw error
  } finally {
    await runner.close()
  }
}

export async function bootWithMigrator(): Promise<void> {
  const target = await openMigrationDatabase()
  try {
    const migrator = new Migrator({
      db: target.db,
      provider: new SqlFileMigrationProvider(),
      ...target.migratorOptions,
    })
    const { error } = await migrator.migrateToLatest()
    if (error) throw error
  } finally {
    await target.close()
  }
}

type SessionRow = Selectable<Database['sessions']>

export async function activeSessions(
  db: Kysely<Database>,
  userId: string,
): Promise<Pick<SessionRow, 'id' | 'goal' | 'status'>[]> {
  return db
    .selectFrom('sessions')
    .select(['id', 'goal', 'status'])
    .where('user_id', '=', userId)
    .where('is_deleted', '=', false)
    .orderBy('updated_at', 'desc')
    .execute()
}

export async function addStep(db: Kysely<Database>, sessionId: string): Promise<number> {
  const { id } = await db
    .insertInto('steps')
    .values({ session_id: sessionId, step_number: 1, action: 'think', parameters: { query: 'x' } })
    .returning('id')
    .executeTakeFirstOrThrow()
  return id
}

export async function inATest(): Promise<number> {
  const t: TestDatabase = await createTestDatabase()
  try {
    return await withRollback(t.db, async (trx) => (await trx.selectFrom('todos').selectAll().execute()).length)
  } finally {
    await t.destroy()
  }
}

export async function open(url: string): Promise<Kysely<Database>> {
  return createDatabase({ url })
}
