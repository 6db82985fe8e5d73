import pg from 'pg'

import { guardConnectionErrors } from '../../src/connect/index.js'
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
    const client = guardConnectionErrors(new pg.Client({ connectionString: target.url }))
    await client.connect()
    try {
      await client.query(folders.concatenated)
    } finally {
      await client.end()
    }
  },
}

/**
 * Reference for W1: each file sent as its own query on one connection (so one round trip
 * and one commit per file, no ledger): the cost of committing file by file, which ours
 * does by design, without any bookkeeping.
 */
export const queryPerFile: Contender = {
  id: 'query-per-file',
  label: 'one query per file, no ledger (pg; reference)',
  runs: 'in-process',
  async apply(target, folders) {
    const client = guardConnectionErrors(new pg.Client({ connectionString: target.url }))
    await client.connect()
    try {
      for (const text of folders.texts) await client.query(text)
    } finally {
      await client.end()
    }
  },
}
