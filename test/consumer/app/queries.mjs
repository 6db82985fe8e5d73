// Agent code: typed queries on the migrated schema (the types are checked by tsc on src/).
import { createDatabase } from '@wukong/adapter-vercel'

const db = await createDatabase({ url: process.env.DATABASE_URL })
try {
  await db.insertInto('sessions').values({ id: 's1', goal: 'write a poem', user_id: 'u1' }).execute()
  await db
    .insertInto('steps')
    .values([
      { session_id: 's1', step_number: 1, action: 'think' },
      { session_id: 's1', step_number: 2, action: 'answer', status: 'completed' },
    ])
    .execute()
  const session = await db
    .selectFrom('sessions')
    .select(['id', 'goal', 'status', 'depth'])
    .where('id', '=', 's1')
    .executeTakeFirstOrThrow()
  const steps = await db
    .selectFrom('steps')
    .select(['step_number', 'action', 'status'])
    .where('session_id', '=', 's1')
    .orderBy('step_number')
    .execute()
  console.log(JSON.stringify({ session, steps }))
} finally {
  await db.destroy()
}
