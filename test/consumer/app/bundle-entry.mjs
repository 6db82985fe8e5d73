// The app a bundler packs into one file: it migrates with the package's defaults (its own
// migrations, embedded in its code), so the bundle needs no migrations folder beside it.
import { MigrationRunner } from '@wukong/adapter-vercel'

const runner = new MigrationRunner()
try {
  const { results, currentVersion } = await runner.migrate()
  console.log(
    JSON.stringify({ applied: results.map((r) => `${r.name}:${r.status}`), currentVersion, source: runner.source }),
  )
} finally {
  await runner.close()
}
