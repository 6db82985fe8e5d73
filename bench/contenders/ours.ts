import type { Kysely } from 'kysely'
import { sql } from 'kysely'

import { createDatabase } from '../../src/connect/index.js'
import { MigrationRunner } from '../../src/index.js'
import { rawQuery } from '../../src/provider/ledger.js'
import { checkUpToDate } from '../../src/provider/migration-state.js'
import { scanMigrationFolder } from '../../src/provider/read-migration-folder.js'
import type { MigrationFolders } from '../lib/migration-sets.js'
import { expectCount, type CheckSession, type Contender, type Target } from './contender.js'

const quiet = (): void => {}

/**
 * Ours: `MigrationRunner` (the one-query up-to-date check; with work to do, the runner holds
 * Kysely's lock and applies each file with both ledger rows in one round trip). A new runner
 * per call: each call reads and checksums (and, to apply, parses) every file. The warm session
 * keeps its connection and its runner (whose provider remembers what it parsed).
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
 * Diagnostic: the up-to-date check's single query alone (the files' versions, checksums and
 * names sent, only differences returned), the files scanned once beforehand.
 */
export async function snapshotSession(target: Target, folders: MigrationFolders): Promise<CheckSession> {
  const db = await warmDatabase(target)
  const heads = scanMigrationFolder(folders.ours)
  return {
    async check() {
      if (!(await checkUpToDate(rawQuery(db), heads))) throw new Error('the database is not in step with the files')
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
