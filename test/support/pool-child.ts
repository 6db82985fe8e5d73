// Takes one test database from the pool, waits until the pool has made its next clones, prints
// every database name of this process on one line, then ends the way argv[2] says:
//   wait    waits to be killed (SIGKILL: no clean-up of any kind runs; SIGTERM: a test runner's stop)
//   return  lets the event loop empty, without closeTestDatabases()
//   exit    process.exit(0) at once
//   close   closeTestDatabases() (which also drops what processes that are gone left), then returns
import pg from 'pg'

import { closeTestDatabases, createTestDatabase } from '../../src/testing/index.js'

const mode = process.argv[2] ?? 'wait'
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
if (mode === 'wait') setInterval(() => {}, 1_000)
else if (mode === 'exit') process.exit(0)
else if (mode === 'close') await closeTestDatabases()
