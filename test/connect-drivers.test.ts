// The three drivers side by side: each migrates a fresh database with the package's files
// through openMigrationDatabase + Kysely's Migrator, and answers a typed query.
import { Migrator } from 'kysely/migration'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openMigrationDatabase, type MigrationDatabase } from '../src/connect/index.js'
import { SqlFileMigrationProvider } from '../src/index.js'
import { resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { wukongFolder, type LedgerTables } from './support/wukong-files.js'
import { startWsProxy, type WsProxy } from './support/ws-proxy.js'

const server = await resolveTestServer()
if (server.skipReason) console.warn(`[connect-drivers.test] pg and vercel skipped: ${server.skipReason}`)

let proxy: WsProxy | undefined
const handles: TestDatabaseHandle[] = []
beforeAll(async () => {
  if (!server.skipReason) proxy = await startWsProxy()
})
afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()))
  await proxy?.stop()
})

async function freshUrl(): Promise<string> {
  const handle = await server.createDatabase()
  handles.push(handle)
  return handle.url!
}

const drivers: { name: string; needsServer: boolean; lock: string; open: () => Promise<MigrationDatabase> }[] = [
  {
    name: 'pglite (embedded, in memory)',
    needsServer: false,
    lock: 'session',
    open: () => openMigrationDatabase({ env: {}, dataDir: 'memory://' }),
  },
  {
    name: 'pg (TCP, direct URL)',
    needsServer: true,
    lock: 'session',
    open: async () => openMigrationDatabase({ url: await freshUrl(), env: {} }),
  },
  {
    name: 'vercel (@vercel/postgres-kysely over a WebSocket)',
    needsServer: true,
    lock: 'transaction',
    open: async () => {
      const url = new URL(await freshUrl())
      url.hostname = 'localhost' // @vercel/postgres accepts pooled or localhost URLs only
      return openMigrationDatabase({ url: url.toString(), env: {}, driver: 'vercel', neon: proxy!.neon })
    },
  },
]

describe.each(drivers)('$name', ({ needsServer, lock, open }) => {
  it.skipIf(needsServer && server.skipReason)(
    'migrates a fresh database with the package files and answers a typed query',
    async () => {
      const { folder, count } = await wukongFolder()
      const target = await open()
      try {
        expect(target.lock).toBe(lock)
        const migrator = new Migrator({
          db: target.db,
          provider: new SqlFileMigrationProvider({ migrationFolder: folder }),
          ...target.migratorOptions,
        })
        const { error, results } = await migrator.migrateToLatest()
        expect(error).toBeUndefined()
        expect(results?.every((r) => r.status === 'Success')).toBe(true)
        expect(results).toHaveLength(count)

        const ledger = await target.db
          .withTables<LedgerTables>()
          .selectFrom('schema_versions')
          .select(['version', 'description', 'checksum'])
          .orderBy('version')
          .execute()
        expect(ledger).toHaveLength(count)
        expect(
          ledger.every((row) => typeof row.version === 'number' && /^[0-9a-f]{64}$/.test(row.checksum ?? '')),
        ).toBe(true)
      } finally {
        await target.close()
      }
    },
  )
})
