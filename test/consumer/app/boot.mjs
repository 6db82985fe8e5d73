// An app's boot: migrate with the package's own migrations, then close what the runner opened.
import { MigrationRunner } from '@wukong/adapter-vercel'

const runner = new MigrationRunner({ url: process.env.DATABASE_URL })
try {
  const { results, currentVersion } = await runner.migrate()
  console.log(JSON.stringify({ applied: results.map((r) => `${r.name}:${r.status}`), currentVersion }))
} finally {
  await runner.close()
}
