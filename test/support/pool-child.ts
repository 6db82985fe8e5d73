// Takes one test database from the pool, waits until the pool has made its next clones, prints
// every database name of this process on one line, then waits to be killed (SIGKILL: no
// clean-up of any kind runs).
import pg from 'pg'

import { createTestDatabase } from '../../src/testing/index.js'

const t = await createTestDatabase({ poolSize: 2 })
const admin = new pg.Client({ connectionString: process.env['TEST_DATABASE_URL'] })
await admin.connect()
const mine = `%\\_${process.pid}\\_%`
const deadline = Date.now() + 60_000
let names: string[] = []
while (Date.now() < deadline) {
  names = (
    await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [mine])
  ).rows.map((r) => r.datname)
  if (names.length >= 3) break
  await new Promise((resolve) => setTimeout(resolve, 50))
}
await admin.end()
process.stdout.write(`${JSON.stringify({ handedOut: t.name, names })}\n`)
setInterval(() => {}, 1_000)
