import { dirname } from 'node:path'

import { dbmateBinary } from '../lib/dbmate-binary.js'
import { run } from '../lib/spawn.js'
import type { Contender } from './contender.js'

/** Both programs get `sslmode=disable`, as node-postgres uses no TLS by default either. */
function withoutTls(url: string): string {
  const u = new URL(url)
  u.searchParams.set('sslmode', 'disable')
  return u.toString()
}

/** The dbmate Go binary itself (not the npm shim, which would add a Node start); found on first use. */
let DBMATE: string | undefined
const PSQL = process.env['PSQL'] ?? 'psql'

/** dbmate 2, spawned per call, on `NNN_name.sql` files with a `-- migrate:up` header. */
export const dbmate: Contender = {
  id: 'dbmate',
  label: 'dbmate 2',
  runs: 'spawned',
  async apply(target, folders) {
    const out = await runDbmate(target.url, folders.dbmate)
    const applied = out.split('\n').filter((l) => l.startsWith('Applying:')).length
    if (applied !== folders.count)
      throw new Error(`dbmate: expected ${folders.count} files applied, got ${applied}:\n${out}`)
  },
  async check(target, folders) {
    const out = await runDbmate(target.url, folders.dbmate)
    if (out.includes('Applying:')) throw new Error(`dbmate: the check applied files:\n${out}`)
  },
}

function runDbmate(url: string, folder: string): Promise<string> {
  // cwd: the generated folder's parent, so that dbmate finds no stray .env file.
  DBMATE ??= dbmateBinary()
  return run(DBMATE, ['--url', withoutTls(url), '--migrations-dir', folder, '--no-dump-schema', 'migrate'], {
    cwd: dirname(folder),
  })
}

/** The floor: `psql -1 -f` on every file concatenated (one transaction, no ledger). */
export const psql: Contender = {
  id: 'psql',
  label: 'psql -1 -f (floor)',
  runs: 'spawned',
  async apply(target, folders) {
    await run(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-f', folders.psqlFile, '-d', withoutTls(target.url)], {
      cwd: dirname(folders.psqlFile),
    })
  },
}
