import type pg from 'pg'

import type { MigrationLockKind } from '../connect/open-migration-database.js'
import { GuardedPool } from '../connect/guarded-pool.js'
import { connectTimeoutOf, MIGRATION_POOL, pgPoolConfig } from '../connect/pg-config.js'
import { isPooledUrl } from '../connect/pooled-url.js'
import { redactUrl } from '../connect/redact.js'
import { type DatabaseUrlSource, resolveDatabaseUrl } from '../connect/resolve-database-url.js'
import type { MigrationFile } from '../provider/migration-file.js'
import type { MigrationStatus, PendingMigration } from '../provider/migration-plan.js'
import { checkUpToDate } from '../provider/migration-state.js'
import { sqlParserNeeded } from '../provider/sql-parser.js'
import { SqlFileMigrationProvider } from '../provider/sql-file-migration-provider.js'
import type { SchemaDiff } from '../schema-diff/diff-schema.js'
import type { RoundTripReport } from '../schema-diff/verify-round-trip.js'
import type { MigrateResult } from './migration-run-error.js'
import type { EngineHandover, MigrationRunnerOptions, RunnerEngine } from './migration-runner.js'
import { resolveTimeouts } from './resolve-timeouts.js'
import { wrapRunError } from './wrap-run-error.js'

/**
 * Migrates a database from the SQL files, at app boot or from the CLI: one query when it is up to date,
 * each file committed with both ledgers' rows, and results true to what is committed.
 *
 * @example
 * ```ts
 * import { MigrationRunner } from '@wukong/adapter-vercel'
 *
 * const runner = new MigrationRunner()
 * await runner.migrate()
 * const status = await runner.status()
 * console.log(status.currentVersion)
 * await runner.close()
 * ```
 */
export class MigrationRunner {
  readonly #props: MigrationRunnerOptions
  readonly #provider: SqlFileMigrationProvider
  #engine: Promise<RunnerEngine> | undefined
  #loaded: RunnerEngine | undefined
  #announced = false
  #source: DatabaseUrlSource | 'db' = 'db'
  #lock: MigrationLockKind | 'given' = 'given'
  #handover: EngineHandover | undefined

  constructor(options: MigrationRunnerOptions = {}) {
    this.#props = Object.freeze({ ...options })
    this.#provider = new SqlFileMigrationProvider(options)
  }

  /** The provider this runner hands to Kysely's Migrator. */
  get provider(): SqlFileMigrationProvider {
    return this.#provider
  }

  /** The folder of migration files; undefined for the package's bundled migrations. */
  get migrationFolder(): string | undefined {
    return this.#provider.migrationFolder
  }

  /** Which setting chose the database: `option`, an environment variable, `embedded` or `db`. */
  get source(): DatabaseUrlSource | 'db' {
    return this.#loaded?.source ?? this.#source
  }

  /** How migrators exclude one another: a `session` or `transaction`-scoped (pooled URL) lock, or `given` (a `db`). */
  get lock(): MigrationLockKind | 'given' {
    return this.#loaded?.lock ?? this.#lock
  }

  /** The files a run has on the server now, and its backend when that is known (to name after a second Ctrl-C). */
  get inFlight(): RunnerEngine['inFlight'] {
    return this.#loaded?.inFlight
  }

  /** Reads and validates the files without touching any database (throws on the first problem). */
  verify(): Promise<readonly MigrationFile[]> {
    return this.#provider.loadFiles()
  }

  /** Applies every pending file; throws a `MigrationRunError` naming the file, with every file's outcome. */
  async migrate(): Promise<MigrateResult> {
    const upToDate = await this.#upToDate()
    if (upToDate) return Object.freeze({ results: [], currentVersion: upToDate.currentVersion })
    return (await this.#load()).migrate()
  }

  /** Where the database stands: applied, pending, edited, renamed, missing, out of order; reads only. */
  async status(): Promise<MigrationStatus> {
    return (await this.#upToDate(true))?.status ?? (await this.#load()).status()
  }

  /** The files `migrate()` would apply, with their statements, touching nothing. */
  async plan(): Promise<readonly (PendingMigration & { readonly statementTexts: readonly string[] })[]> {
    return (await this.#load()).plan()
  }

  /** Reverts the last applied file (with its `.down.sql`), or every file above `to`. */
  async down(options: { readonly to?: number } = {}): Promise<MigrateResult> {
    return (await this.#load()).down(options)
  }

  /** Migrates up or down so that `version` is the last applied; 0 reverts everything. */
  async migrateTo(version: number): Promise<MigrateResult> {
    return (await this.#load()).migrateTo(version)
  }

  /**
   * Compares the live database with what its applied files build (on a shadow database).
   *
   * @example
   * ```ts
   * const { inSync, differences } = await runner.diff()
   * ```
   */
  async diff(options: { readonly shadowUrl?: string } = {}): Promise<SchemaDiff> {
    return (await this.#load()).diff(options)
  }

  /**
   * Proves the down files on a scratch database: each must restore the schema its up file found.
   *
   * @example
   * ```ts
   * const report = await runner.verifyRoundTrip()
   * if (!report.ok) console.log(report.files.filter((f) => f.outcome !== 'proven'))
   * ```
   */
  async verifyRoundTrip(
    options: { readonly shadowUrl?: string; readonly requireDown?: boolean } = {},
  ): Promise<RoundTripReport> {
    return (await this.#load()).verifyRoundTrip(options)
  }

  /** Closes the connection the runner opened (not a `db` it was given). */
  async close(): Promise<void> {
    await this.#handover?.pool.end().catch(() => {})
    this.#handover = undefined
    const engine = this.#engine
    this.#engine = undefined
    this.#loaded = undefined
    if (engine) await (await engine).close()
  }

  /** The migration engine, loaded on first use (Kysely, the drivers, the apply code). */
  #load(): Promise<RunnerEngine> {
    if (!this.#engine) sqlParserNeeded()
    const handover = this.#handover
    this.#handover = undefined
    this.#engine ??= import('./migration-runner.js').then(({ RunnerEngine: Engine }) => {
      const announce = this.#announced ? false : this.#props.announce
      this.#loaded = new Engine({ ...this.#props, announce }, this.#provider, handover)
      return this.#loaded
    })
    return this.#engine
  }

  // One query on a bare pg connection before anything else loads; undefined hands the pool to the engine.
  async #upToDate(
    withStatus = false,
  ): Promise<{ currentVersion: number | null; status?: MigrationStatus } | undefined> {
    const props = this.#props
    if (this.#engine || props.db || props.embedded === true || props.signal?.aborted) return undefined
    if (props.driver && props.driver !== 'pg') return undefined
    const env = props.env ?? process.env
    let resolved: ReturnType<typeof resolveDatabaseUrl>
    try {
      resolved = resolveDatabaseUrl(props.url, env)
    } catch {
      return undefined // the engine says why (no URL in production, an empty variable)
    }
    const { url, source } = resolved
    if (!url || source === 'embedded') return undefined
    const heads = this.#provider.scanFiles()
    const { connectMs, lockMs } = resolveTimeouts(props.timeouts, env)
    const timeoutMs = connectTimeoutOf(url, connectMs)
    let config: pg.PoolConfig
    try {
      config = pgPoolConfig(url, { ...MIGRATION_POOL, connectTimeoutMs: connectMs })
    } catch {
      return undefined // an unreadable URL: the engine reports it, redacted
    }
    // The pool the engine would open, so that it carries on with this connection.
    const pool = new GuardedPool(config)
    let handed = false
    const started = performance.now()
    try {
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (error) {
        if (timeoutMs === 0 || performance.now() - started < timeoutMs) return undefined
        throw wrapRunError(error, { url, urlOption: props.url, env, source, connectMs })
      }
      let upToDate: Awaited<ReturnType<typeof checkUpToDate>>
      let failed = true
      try {
        this.#source = source
        this.#lock = (props.pooled ?? isPooledUrl(url)) ? 'transaction' : 'session'
        // One implicit transaction: a failed check (no ledger yet) leaves the session clean for the engine.
        const query = async (text: string): Promise<readonly unknown[]> => {
          const results = (await client.query(
            `SET TRANSACTION READ ONLY;\nSET LOCAL lock_timeout = ${lockMs};\n${text}`,
          )) as unknown as pg.QueryResult[]
          return results[2]!.rows
        }
        upToDate = await checkUpToDate(query, heads, props.ledgerSchema, withStatus)
        failed = false
      } catch {
        upToDate = undefined
      } finally {
        client.release(failed)
      }
      if (!upToDate) {
        this.#handover = { pool, checked: !failed }
        handed = true
        return undefined
      }
      if (source !== 'option' && props.announce !== false) {
        const log = props.log ?? ((line: string) => process.stderr.write(`${line}\n`))
        log(`Using the database from ${source} (${redactUrl(url)})`)
        this.#announced = true
      }
      return upToDate
    } finally {
      if (!handed) await pool.end().catch(() => {})
    }
  }
}
