// Runs once when the server starts: migrate the database (POSTGRES_URL_NON_POOLING, else
// POSTGRES_URL, …) before the first request.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return
  const { MigrationRunner } = await import('@wukong/adapter-vercel')
  const runner = new MigrationRunner()
  try {
    const { results, currentVersion } = await runner.migrate()
    console.log(`wukong-migrations ${JSON.stringify({ applied: results.map((r) => r.name), currentVersion })}`)
  } finally {
    await runner.close()
  }
}
