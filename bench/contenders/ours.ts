import type { Kysely } from 'kysely'
import { sql } from 'kysely'

import { createDatabase } from '../../src/connect/index.js'
import { MigrationRunner, readSnapshotFast } from '../../src/index.js'
import type { MigrationFolders } from '../lib/migration-sets.js'
import { expectCount, type CheckSession, type Contender, type Target } from './contender.js'

const quiet = (): void => {}

/**
 * Ours: `MigrationRunner` (our provider under Kysely's Migrator, with the one-query
 * up-to-date check). A new runner per call, so each call reads and parses the files.
 */
export const ours: Contender = {
  id: 'ours',
  label: 'ours (MigrationRunner)',
  runs: 'in-process',
  async apply(target, folders) {
    const runner = new MigrationRunner({ url: target.url, migrationFolder: folders.ours, log: quiet })
    try {
      const { results } = await runner.migrate()
      expectCount('ours: files applied', results.filter((r) => r.status === 'applied').length, folders.count)
    } finally {
      await runner.close()
    }
  },
  async check(target, folders) {
    const runner = new MigrationRunner({ url: target.url, migrationFolder: folders.ours, log: quiet })
    try {
      expectCount('ours: files applied by the check', (await runner.migrate()).results.length, 0)
    } finally {
      await runner.close()
    }
  },
  async openSession(target, folders) {
    const db = await warmDatabase(target)
    return {
      async check() {
        const runner = new MigrationRunner({ db, migrationFolder: folders.ours })
        expectCount('ours: files applied by the check', (await runner.migrate()).results.length, 0)
      },
      close: () => db.destroy(),
    }
  },
}

/**
 * Diagnostic only: ours with the files already read and parsed (one runner kept across
 * checks), to separate the database's share of the check from reading and parsing files.
 */
export async function oursPreparsedSession(target: Target, folders: MigrationFolders): Promise<CheckSession> {
  const db = await warmDatabase(target)
  const runner = new MigrationRunner({ db, migrationFolder: folders.ours })
  await runner.verify()
  return {
    async check() {
      expectCount('ours: files applied by the check', (await runner.migrate()).results.length, 0)
    },
    close: () => db.destroy(),
  }
}

/**
 * Diagnostic: the fast path's single query alone (both ledgers, every column of every row).
 */
export async function snapshotSession(target: Target): Promise<CheckSession> {
  const db = await warmDatabase(target)
  return {
    async check() {
      if (!(await readSnapshotFast(db))) throw new Error('the ledger is missing')
    },
    close: () => db.destroy(),
  }
}

/**
 * The floor of an up-to-date check: one query on a warm connection that reads the ledger.
 */
export async function floorSession(target: Target): Promise<CheckSession> {
  const db = await warmDatabase(target)
  return {
    async check() {
      await sql`select version, checksum from schema_versions`.execute(db)
    },
    close: () => db.destroy(),
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function warmDatabase(target: Target): Promise<Kysely<any>> {
  const db = await createDatabase({ url: target.url })
  await sql`select 1`.execute(db)
  return db
}
