import { join } from 'node:path'

import pg from 'pg'
import Postgrator from 'postgrator'

import { guardConnectionErrors } from '../../src/connect/index.js'
import type { MigrationFolders } from '../lib/migration-sets.js'
import { expectCount, type Contender, type Target } from './contender.js'

/** postgrator 8 over one pg client, on the files named `NNN.do.name.sql`. */
export const postgrator: Contender = {
  id: 'postgrator',
  label: 'postgrator 8',
  runs: 'in-process',
  async apply(target, folders) {
    const client = guardConnectionErrors(new pg.Client({ connectionString: target.url }))
    await client.connect()
    try {
      const applied = await create(client, target, folders).migrate()
      expectCount('postgrator: files applied', applied.length, folders.count)
    } finally {
      await client.end()
    }
  },
  async check(target, folders) {
    const client = guardConnectionErrors(new pg.Client({ connectionString: target.url }))
    await client.connect()
    try {
      expectCount('postgrator: files applied by the check', (await create(client, target, folders).migrate()).length, 0)
    } finally {
      await client.end()
    }
  },
  async openSession(target, folders) {
    const client = guardConnectionErrors(new pg.Client({ connectionString: target.url }))
    await client.connect()
    await client.query('select 1')
    return {
      async check() {
        expectCount(
          'postgrator: files applied by the check',
          (await create(client, target, folders).migrate()).length,
          0,
        )
      },
      close: () => client.end(),
    }
  },
}

function create(client: pg.Client, target: Target, folders: MigrationFolders): Postgrator {
  return new Postgrator({
    migrationPattern: join(folders.postgrator, '*'),
    driver: 'pg',
    database: target.database,
    execQuery: (query) => client.query(query),
  })
}
