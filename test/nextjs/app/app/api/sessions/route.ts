import { createDatabase, type Database } from '@wukong/adapter-vercel'
import type { Kysely } from 'kysely'

export const dynamic = 'force-dynamic'

let db: Promise<Kysely<Database>> | undefined
// Opened on the first request (never while `next build` collects the route).
const database = (): Promise<Kysely<Database>> => (db ??= createDatabase({ url: process.env.POSTGRES_URL }))

// Typed queries: the tables and columns come from the package's Database type.
export async function GET(): Promise<Response> {
  const k = await database()
  const sessions = await k.selectFrom('sessions').select(['id', 'goal', 'status']).orderBy('created_at').execute()
  const { version } = await k
    .selectFrom('schema_versions')
    .select((eb) => eb.fn.max('version').as('version'))
    .executeTakeFirstOrThrow()
  return Response.json({ version, sessions })
}

export async function POST(request: Request): Promise<Response> {
  const { id, goal } = (await request.json()) as { id: string; goal: string }
  const row = await (await database())
    .insertInto('sessions')
    .values({ id, goal })
    .returning(['id', 'status'])
    .executeTakeFirstOrThrow()
  return Response.json(row)
}
