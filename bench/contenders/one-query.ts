import pg from 'pg'

import type { Contender } from './contender.js'

/**
 * Reference: every file sent as ONE simple query (one implicit transaction, no ledger).
 * The round-trip floor: psql sends each statement separately.
 */
export const oneQuery: Contender = {
  id: 'one-query',
  label: 'one multi-statement query (pg; reference)',
  runs: 'in-process',
  async apply(target, folders) {
    const client = new pg.Client({ connectionString: target.url })
    await client.connect()
    try {
      await client.query(folders.concatenated)
    } finally {
      await client.end()
    }
  },
}
