// An app's boot as Vercel runs it: no URL in code, the database from the environment.
import { MigrationRunner } from '@wukong/adapter-vercel'

const runner = new MigrationRunner()
try {
  const { results, currentVersion } = await runner.migrate()
  console.log(JSON.stringify({ applied: results.map((r) => `${r.name}:${r.status}`), currentVersion }))
} catch (error) {
  console.error(`${error.code}: ${error.message}`)
  process.exitCode = 1
} finally {
  await runner.close()
}
