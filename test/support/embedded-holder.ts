// A process that has the embedded database open (as an app would) until its stdin closes.
// argv: <dataDir>. Prints `open <pid>` once the database answers, `closed` after db.destroy().
import { sql } from 'kysely'

import { createDatabase } from '../../src/connect/index.js'

const [dataDir] = process.argv.slice(2) as [string]
const db = await createDatabase({ driver: 'pglite', dataDir })
await sql`select 1`.execute(db)
process.stdout.write(`open ${process.pid}\n`)
process.stdin.resume()
process.stdin.once('end', async () => {
  await db.destroy()
  process.stdout.write('closed\n')
})
