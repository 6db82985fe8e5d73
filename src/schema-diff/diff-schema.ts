import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql, type Kysely } from 'kysely'

import type { MigrationFile } from '../provider/migration-file.js'
import { readLedgerSnapshot, type LedgerSnapshot } from '../provider/ledger.js'
import { planMigrations } from '../provider/migration-plan.js'
import { compareSchemaCatalogs, type SchemaDifference } from './compare-schema-catalogs.js'
import { readSchemaCatalog, type SchemaCatalog } from './read-schema-catalog.js'
import { onServer, openShadowDatabase } from './shadow-database.js'

/**
 * What `diff` found: every difference between the live database and what its applied files build.
 *
 * @example
 * ```ts
 * const result = await runner.diff()
 * if (!result.inSync) for (const d of result.differences) console.log(d.change, d.kind, d.name)
 * ```
 */
export interface SchemaDiff {
  readonly inSync: boolean
  readonly currentVersion: number | null
  /** The applied files, which the expected schema was built from. */
  readonly builtFiles: readonly string[]
  /** Applied versions with no file in the folder: the expected schema lacks what they made. */
  readonly missingVersions: readonly number[]
  /** Applied files edited since: the expected schema has their new text. */
  readonly editedFiles: readonly string[]
  readonly differences: readonly SchemaDifference[]
  /** Where the expected schema was built: a database created for it, or the one given. */
  readonly shadow: { readonly name: string; readonly created: boolean }
}

export interface DiffSchemaOptions {
  readonly live: Kysely<any>
  /** Its server hosts the shadow. */
  readonly liveUrl?: string
  readonly shadowUrl?: string
  readonly files: readonly MigrationFile[]
  /** The runner's own migrate, so the shadow is built exactly as a real database is. */
  readonly build: (url: string, folder: string) => Promise<void>
}

/** Builds the applied files in a shadow database, which is dropped (or emptied) whatever fails. */
export async function diffSchema(options: DiffSchemaOptions): Promise<SchemaDiff> {
  // The live read and the shadow's creation overlap; whichever fails, the shadow is dropped.
  const [live, opened] = await Promise.allSettled([
    readLiveReadOnly(options.live),
    openShadowDatabase({ serverUrl: options.liveUrl, shadowUrl: options.shadowUrl }),
  ])
  if (live.status === 'rejected') {
    if (opened.status === 'fulfilled') await opened.value.drop()
    throw live.reason
  }
  if (opened.status === 'rejected') throw opened.reason
  const { snapshot, catalog: actual } = live.value
  const shadow = opened.value
  // The planner's verdicts: the applied files are built, the rest is reported.
  const status = planMigrations(options.files, snapshot)
  const applied = new Set(status.applied.map((a) => a.version))
  const built = options.files.filter((f) => applied.has(f.version))

  let folder: string | undefined
  let expected: SchemaCatalog
  try {
    folder = await mkdtemp(join(tmpdir(), 'wk-shadow-'))
    for (const file of built) await copyFile(file.path, join(folder, file.fileName))
    await options.build(shadow.url, folder)
    expected = await onServer(shadow.url, readSchemaCatalog)
  } finally {
    await shadow.drop()
    if (folder) await rm(folder, { recursive: true, force: true })
  }
  const differences = compareSchemaCatalogs(expected, actual)
  return Object.freeze({
    inSync: differences.length === 0,
    currentVersion: status.currentVersion,
    builtFiles: Object.freeze(built.map((f) => f.fileName)),
    missingVersions: Object.freeze(status.missing.map((m) => m.version)),
    editedFiles: Object.freeze(status.drifted.map((d) => d.fileName)),
    differences,
    shadow: Object.freeze({ name: shadow.name, created: shadow.created }),
  })
}

/** One read-only transaction, so ledger and catalog are one snapshot and the server refuses any write. */
async function readLiveReadOnly(live: Kysely<unknown>): Promise<{ snapshot: LedgerSnapshot; catalog: SchemaCatalog }> {
  return live.connection().execute(async (conn) => {
    await sql`begin isolation level repeatable read read only`.execute(conn)
    try {
      const snapshot = await readLedgerSnapshot(conn)
      const catalog = await readSchemaCatalog(conn)
      return { snapshot, catalog }
    } finally {
      await sql`rollback`.execute(conn).catch(() => {})
    }
  })
}
