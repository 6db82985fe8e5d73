import { existsSync } from 'node:fs'

import { sql, type Kysely } from 'kysely'
import pg from 'pg'

import { MigrationRunner } from '../../src/index.js'
import { guardConnectionErrors } from '../../src/connect/index.js'
import type { BenchContext, Rounds, TimedRow } from '../lib/context.js'
import { wukongMigrations, writeMigrationFolders } from '../lib/migration-sets.js'
import { quoteIdent } from '../lib/pg-admin.js'
import { rotation, summarize, timed } from '../lib/stats.js'

/** W4's outcome. */
export interface W4Result {
  readonly source: 'package'
  readonly files: number
  readonly rounds: Rounds
  /** Whether `createTestDatabase()` from src/testing was found and measured. */
  readonly fixture: 'createTestDatabase' | 'missing'
  /** The fixture's first call (it migrates its template then), untimed in the rows. */
  readonly fixtureFirstCallMs?: number
  /** `fixture` (or, when missing, `template-wal-log`) is compared with `scratch`. */
  readonly rows: readonly TimedRow[]
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CreateTestDatabase = () => Promise<{ readonly db: Kysely<any>; readonly url?: string; destroy(): Promise<void> }>

/**
 * W4: a fresh, isolated, migrated database. Rows, alternating:
 * - `fixture`: `createTestDatabase()` from src/testing (a clone of a template migrated once
 *   per process), until its `db` has answered a query; `destroy()` untimed;
 * - `scratch`: `CREATE DATABASE` + `MigrationRunner.migrate()` of the same migrations;
 * - diagnostics measured directly: `CREATE DATABASE … TEMPLATE` of a migrated template with
 *   PostgreSQL 15's default `STRATEGY WAL_LOG` and with `STRATEGY FILE_COPY`, and an empty
 *   `CREATE DATABASE`, each followed by a query on a new connection.
 *
 * @example
 * ```ts
 * const w4 = await runW4(ctx, { rounds })
 * ```
 */
export async function runW4(ctx: BenchContext, options: { rounds: Rounds }): Promise<W4Result> {
  const { specs, source } = await wukongMigrations()
  const folders = await writeMigrationFolders(ctx.workDir, 'w4-wukong', specs)
  const { createTestDatabase, closeTestDatabases: closeFixtures } = (await loadFixture(ctx)) ?? {}

  const template = await ctx.admin.createDatabase('w4_template')
  const runner = new MigrationRunner({ url: ctx.admin.urlOf(template), migrationFolder: folders.ours, log: () => {} })
  try {
    await runner.migrate()
  } finally {
    await runner.close()
  }

  const clone = (strategy: 'WAL_LOG' | 'FILE_COPY') => async (): Promise<() => Promise<void>> => {
    const name = await ctx.admin.createDatabaseAs(`w4_clone`, `TEMPLATE ${quoteIdent(template)} STRATEGY ${strategy}`)
    const client = guardConnectionErrors(new pg.Client({ connectionString: ctx.admin.urlOf(name) }))
    await client.connect()
    await client.query('select 1')
    return async () => {
      await client.end()
      await ctx.admin.dropDatabase(name)
    }
  }
  const scratch = async (): Promise<() => Promise<void>> => {
    const name = await ctx.admin.createDatabase('w4_scratch')
    const r = new MigrationRunner({ url: ctx.admin.urlOf(name), migrationFolder: folders.ours, log: () => {} })
    await r.migrate()
    return async () => {
      await r.close()
      await ctx.admin.dropDatabase(name)
    }
  }

  const empty = async (): Promise<() => Promise<void>> => {
    const name = await ctx.admin.createDatabase('w4_empty')
    const client = guardConnectionErrors(new pg.Client({ connectionString: ctx.admin.urlOf(name) }))
    await client.connect()
    await client.query('select 1')
    return async () => {
      await client.end()
      await ctx.admin.dropDatabase(name)
    }
  }

  const contenders: { id: string; label: string; make: () => Promise<() => Promise<void>> }[] = []
  let fixtureFirstCallMs: number | undefined
  if (createTestDatabase) {
    const fixture = async (): Promise<() => Promise<void>> => {
      const handle = await createTestDatabase()
      await sql`select 1`.execute(handle.db)
      return () => handle.destroy()
    }
    let cleanup: (() => Promise<void>) | undefined
    fixtureFirstCallMs = await timed(async () => (cleanup = await fixture()))
    await cleanup?.()
    contenders.push({ id: 'fixture', label: 'createTestDatabase() (a clone from the pool)', make: fixture })
  }
  contenders.push({ id: 'scratch', label: 'CREATE DATABASE + MigrationRunner.migrate()', make: scratch })
  contenders.push({
    id: 'template-wal-log',
    label: 'CREATE DATABASE … TEMPLATE (STRATEGY WAL_LOG, PG 15 default) + connect',
    make: clone('WAL_LOG'),
  })
  contenders.push({ id: 'empty', label: 'CREATE DATABASE (empty, from template1) + connect', make: empty })
  contenders.push({
    id: 'template-file-copy',
    label: 'CREATE DATABASE … TEMPLATE (STRATEGY FILE_COPY) + connect',
    make: clone('FILE_COPY'),
  })

  const samples = new Map<string, number[]>(contenders.map((c) => [c.id, []]))
  try {
    const total = options.rounds.warmup + options.rounds.runs
    for (let round = 0; round < total; round++) {
      for (const c of rotation(contenders, round)) {
        let cleanup: (() => Promise<void>) | undefined
        const ms = await timed(async () => (cleanup = await c.make()))
        await cleanup?.()
        if (round >= options.rounds.warmup) samples.get(c.id)!.push(ms)
      }
      ctx.log(`W4 round ${round + 1}/${total} ${round < options.rounds.warmup ? '(warm-up) ' : ''}done`)
    }
  } finally {
    await closeFixtures?.().catch(() => {})
    await ctx.admin.dropDatabase(template).catch(() => {})
  }
  return {
    source,
    files: specs.length,
    rounds: options.rounds,
    fixture: createTestDatabase ? 'createTestDatabase' : 'missing',
    fixtureFirstCallMs,
    rows: contenders.map((c) => ({
      id: c.id,
      label: c.label,
      runs: 'in-process',
      samples: samples.get(c.id)!,
      summary: summarize(samples.get(c.id)!),
    })),
  }
}

/** `createTestDatabase` (and `closeTestDatabases`) from src/testing, pointed at the benchmark's server; undefined until it exists. */
async function loadFixture(
  ctx: BenchContext,
): Promise<{ createTestDatabase: CreateTestDatabase; closeTestDatabases?: () => Promise<void> } | undefined> {
  process.env['TEST_DATABASE_URL'] ??= ctx.admin.url
  for (const relative of ['../../src/testing/index.ts', '../../src/testing/create-test-database.ts']) {
    const url = new URL(relative, import.meta.url)
    if (!existsSync(url)) continue
    const mod = (await import(url.href)) as Record<string, unknown>
    if (typeof mod['createTestDatabase'] === 'function') {
      const close = mod['closeTestDatabases']
      return {
        createTestDatabase: mod['createTestDatabase'] as CreateTestDatabase,
        closeTestDatabases: typeof close === 'function' ? (close as () => Promise<void>) : undefined,
      }
    }
  }
  ctx.log('W4: src/testing has no createTestDatabase() yet; measuring CREATE DATABASE … TEMPLATE directly')
  return undefined
}
