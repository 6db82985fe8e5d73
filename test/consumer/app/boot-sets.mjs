// An app's boot with migrations of its own: the package's schema first, then the app's files
// as a migration set of their own (their ledgers in app_migrations).
import { fileURLToPath } from 'node:url'

import { MigrationRunner } from '@wukong/adapter-vercel'

const sets = [
  {},
  { migrationFolder: fileURLToPath(new URL('db/migrations', import.meta.url)), ledgerSchema: 'app_migrations' },
]
const report = []
for (const options of sets) {
  const runner = new MigrationRunner({ url: process.env.DATABASE_URL, ...options })
  try {
    const { results, currentVersion } = await runner.migrate()
    const { otherSets } = await runner.status()
    report.push({ applied: results.map((r) => r.name), currentVersion, otherSets })
  } finally {
    await runner.close()
  }
}
console.log(JSON.stringify(report))
