// An app that made its db with @vercel/postgres-kysely's createKysely() hands it to the runner
// and to Kysely's Migrator. Locally the driver reaches the server through a WebSocket proxy.
import { createKysely } from '@vercel/postgres-kysely'
import { Migrator } from 'kysely/migration'
import { MigrationRunner, SqlFileMigrationProvider, configureNeon } from '@wukong/adapter-vercel'
import ws from 'ws'

await configureNeon({
  wsProxy: `127.0.0.1:${process.env.WS_PROXY_PORT}/v2`,
  useSecureWebSocket: false,
  pipelineConnect: false,
  pipelineTLS: false,
  forceDisablePgSSL: true,
  webSocketConstructor: ws,
})
const db = createKysely({ connectionString: process.env.DATABASE_URL })
try {
  const out = {}
  if (process.argv[2] === 'migrator') {
    // The driver has no transactions: each file is atomic on its own (see openMigrationDatabase).
    const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(), disableTransactions: true })
    const { error, results } = await migrator.migrateToLatest()
    if (error) throw error
    out.results = (results ?? []).map((r) => `${r.migrationName}:${r.status}`)
  } else {
    const { results, currentVersion } = await new MigrationRunner({ db }).migrate()
    out.applied = results.map((r) => `${r.name}:${r.status}`)
    out.currentVersion = currentVersion
  }
  await db
    .insertInto('sessions')
    .values({ id: `v-${process.argv[2] ?? 'runner'}-${Date.now()}`, goal: 'over a WebSocket' })
    .execute()
  out.sessions = (await db.selectFrom('sessions').select('id').execute()).length
  console.log(JSON.stringify(out))
} finally {
  await db.destroy()
}
