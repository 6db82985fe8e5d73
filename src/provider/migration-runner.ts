import type { Kysely } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, MIGRATION_LOCK_ID, Migrator, NO_MIGRATIONS, type MigrationResultSet } from 'kysely/migration'

import { DATABASE_URL_VARIABLES, embeddedDataDir, openMigrationDatabase, resolveDatabaseUrl, passwordOf, redact, type DatabaseDriver, type DatabaseUrlSource, type MigrationLockKind } from '../connect/index.js'
import type { ApplyEvent } from './apply-migration.js'
import { assertNoDrift, findDrift } from './check-drift.js'
import { MigrationError } from './migration-error.js'
import { codeForServerError } from './migration-sql-error.js'
import type { MigrationFile } from './migration-file.js'
import { withMigratorIntrospection } from './migrator-introspection.js'
import { bootstrapBookkeeping } from './bootstrap-bookkeeping.js'
import { compareLedger, computeStatus, readSnapshot, type LedgerSnapshot, type MigrationStatus, type PendingMigration } from './migration-state.js'
import { applyPendingFiles, type ApplyPendingOutcome } from './apply-pending.js'
import { DEFAULT_LOCK_TIMEOUT_MS, SqlFileMigrationProvider } from './sql-file-migration-provider.js'

/** Options of {@link MigrationRunner}; every one is optional. */
export interface MigrationRunnerOptions {
  /** A Kysely instance to migrate (the runner does not close it). */
  readonly db?: Kysely<any>
  /** A PostgreSQL URL. Default: POSTGRES_URL_NON_POOLING, POSTGRES_URL, POSTGRES_PRISMA_URL, else the embedded database. */
  readonly url?: string
  /** Default: the package's own `migrations/`. */
  readonly migrationFolder?: string
  /** Migrate even when applied files changed or are gone. Default false. */
  readonly allowDrift?: boolean
  /** `lock_timeout` for each file's statements. Default 10 000 ms; 0 waits forever. */
  readonly lockTimeoutMs?: number
  /** `statement_timeout` for each file's statements. Default 0: no limit. */
  readonly statementTimeoutMs?: number
  /** Where URLs are looked up. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** Default: pg over TCP for a URL, the embedded PGlite without one (see `chooseDriver`). */
  readonly driver?: DatabaseDriver
  /** Declare the URL pooled (PgBouncer in transaction mode) or direct, overriding detection. */
  readonly pooled?: boolean
  /** One-line notices (e.g. which database is used). Default: stderr. */
  readonly log?: (line: string) => void
  /** Called after each file is applied, adopted, healed or reverted. */
  readonly onApply?: (event: ApplyEvent) => void
}

/** What happened to one file in a run. */
export type MigrationFileStatus = 'applied' | 'adopted' | 'healed' | 'reverted' | 'failed' | 'not-run'

/** One file's outcome, true to what is committed. */
export interface MigrationFileResult {
  readonly version: number
  readonly name: string
  readonly fileName: string
  readonly status: MigrationFileStatus
  /** Wall time of the file, when it ran. */
  readonly durationMs?: number
  /** False for a `-- wukong:no-transaction` file. */
  readonly atomic: boolean
}

/** The outcome of `migrate()`, `down()` or `migrateTo()`. */
export interface MigrateResult {
  /** One entry per file the run had to handle (empty when the database was up to date). */
  readonly results: readonly MigrationFileResult[]
  readonly currentVersion: number | null
}

/**
 * A failed run: the underlying {@link MigrationError} (file, line:column, PostgreSQL's code)
 * as `cause`, and every file's outcome in `results`.
 */
export class MigrationRunError extends MigrationError {
  override readonly name: string = 'MigrationRunError'
  readonly results: readonly MigrationFileResult[]
  override readonly cause: MigrationError

  constructor(cause: MigrationError, results: readonly MigrationFileResult[]) {
    super(cause.code, cause.message, { file: cause.file, line: cause.line, column: cause.column, cause })
    this.cause = cause
    this.results = results
  }
}

/**
 * Migrates a database from the SQL files, at app boot or from the CLI, with a one-query
 * up-to-date check, each file committed on its own, and results that never call rolled-back
 * work applied. `migrate()` holds Kysely's migration lock and writes Kysely's
 * `kysely_migration` rows itself, in the same transaction as each file and its
 * `schema_versions` row (consecutive files batched into one round trip), so Kysely's Migrator
 * over {@link SqlFileMigrationProvider} sees exactly what it would have recorded; `down()`
 * and `migrateTo()` run Kysely's Migrator.
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
  #events: ApplyEvent[] = []
  #db: Promise<Kysely<any>> | undefined
  #close: (() => Promise<void>) | undefined
  #url: string | undefined
  #source: DatabaseUrlSource | 'db' = 'db'
  #lock: MigrationLockKind | 'given' = 'given'

  constructor(options: MigrationRunnerOptions = {}) {
    this.#props = Object.freeze({ ...options })
    this.#provider = new SqlFileMigrationProvider({
      migrationFolder: options.migrationFolder,
      allowDrift: options.allowDrift,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      onApply: (event) => {
        this.#events.push(event)
        options.onApply?.(event)
      },
    })
  }

  /** The provider this runner hands to Kysely's Migrator. */
  get provider(): SqlFileMigrationProvider {
    return this.#provider
  }

  /** The folder of migration files. */
  get migrationFolder(): string {
    return this.#provider.migrationFolder
  }

  /** Which setting chose the database: `option`, an environment variable, `embedded` or `db`. */
  get source(): DatabaseUrlSource | 'db' {
    return this.#source
  }

  /**
   * How migrators exclude one another on this connection: Kysely's `session` advisory lock
   * (direct URLs, PGlite), a `transaction`-scoped lock (pooled URLs, the vercel driver), or
   * `given` (a `db` passed in: Kysely's lock as its dialect provides it). Known once connected.
   */
  get lock(): MigrationLockKind | 'given' {
    return this.#lock
  }

  /** Reads and validates the files without touching any database (throws on the first problem). */
  verify(): Promise<readonly MigrationFile[]> {
    return this.#provider.loadFiles()
  }

  /**
   * Applies every pending file. On an up-to-date database this is one query (the files'
   * versions, checksums and names sent; only differences come back) and never reads the
   * catalog. With work to do, it holds Kysely's migration lock and applies each file in one
   * round trip that commits its SQL with both ledgers' rows. Throws a {@link MigrationRunError}.
   */
  async migrate(): Promise<MigrateResult> {
    // Boot fast path: list the folder (files read and checksummed only when they changed),
    // one query comparing them with both ledgers; parse and apply only when there is work.
    const heads = this.#provider.scanFiles()
    const db = await this.#guard(() => this.#connect())
    // A read, so safe to try twice: a pool may hand out a connection whose backend was
    // terminated while it sat idle (a failover, an admin), and the second try gets a new one.
    const diff = await this.#guard(() => compareLedger(db, heads).catch((error: unknown) => (isLostConnection(error) ? compareLedger(db, heads) : Promise.reject(error))))
    const seen = diff === 'no-ledger' ? undefined : diff
    if (seen && !this.#props.allowDrift) assertNoDrift(seen)
    if (seen?.isInStep) return Object.freeze({ results: [], currentVersion: seen.currentVersion })
    const files = await this.#provider.loadFiles()
    // A database without the bookkeeping tables (or columns) gets them in one round trip.
    if (!seen) await this.#guard(() => bootstrapBookkeeping(db))

    this.#events = []
    const adapter = db.getExecutor().adapter
    const lock = Object.freeze({ lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID })
    const underLock = async (conn: Kysely<any>): Promise<ApplyPendingOutcome> => {
      await adapter.acquireMigrationLock(conn, lock)
      try {
        return await applyPendingFiles(conn, files, {
          allowDrift: this.#props.allowDrift,
          limits: { lockTimeoutMs: this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, statementTimeoutMs: this.#props.statementTimeoutMs ?? 0 },
          onApply: (event) => {
            this.#events.push(event)
            this.#props.onApply?.(event)
          },
        })
      } finally {
        await adapter.releaseMigrationLock(conn, lock)
      }
    }
    let outcome: ApplyPendingOutcome
    try {
      // One session for the lock and the files, as Kysely's Migrator does.
      outcome = db.isTransaction ? await underLock(db) : await db.connection().execute(underLock)
    } catch (error) {
      throw new MigrationRunError(this.#wrap(error), [])
    }
    const events = new Map(outcome.events.map((e) => [e.name, e]))
    // Truth comes from the ledger after a failure.
    const after = outcome.error ? await readSnapshot(db).catch(() => undefined) : undefined
    const committed = new Set(after?.ledger.map((r) => r.version))
    const results = outcome.pending.map((file): MigrationFileResult => {
      const event = events.get(file.name)
      let status: MigrationFileStatus = file === outcome.failed ? 'failed' : event ? event.kind : 'not-run'
      if (after && status !== 'failed' && !committed.has(file.version)) status = 'not-run'
      return Object.freeze({
        version: file.version,
        name: file.name,
        fileName: file.fileName,
        status,
        durationMs: event?.durationMs,
        atomic: event?.atomic ?? file.sql.transactional,
      })
    })
    if (outcome.error) throw new MigrationRunError(this.#wrap(outcome.error), results)
    const versions = [...outcome.versions]
    return Object.freeze({ results, currentVersion: versions.length ? Math.max(...versions) : null })
  }

  /** Where the database stands: applied (with checksum check), pending, drifted, missing, adopted. */
  async status(): Promise<MigrationStatus> {
    const files = await this.#provider.loadFiles()
    const db = await this.#guard(() => this.#connect())
    return computeStatus(files, await this.#guard(() => readSnapshot(db)))
  }

  /** The files `migrate()` would apply, with their statements, touching nothing. */
  async plan(): Promise<readonly (PendingMigration & { readonly statementTexts: readonly string[] })[]> {
    const files = await this.#provider.loadFiles()
    const { pending } = await this.status()
    return pending.map((p) => Object.freeze({ ...p, statementTexts: files.find((f) => f.version === p.version)!.sql.statements.map((s) => s.text) }))
  }

  /** Reverts the last applied file (with its `.down.sql`), or every file above `to`. */
  async down(options: { readonly to?: number } = {}): Promise<MigrateResult> {
    if (options.to !== undefined) return this.migrateTo(options.to)
    const files = await this.#provider.loadFiles()
    const db = await this.#guard(() => this.#connect())
    const status = await this.status()
    const last = status.applied.at(-1)
    if (last) this.#assertDownFiles(files, [last.version])
    return this.#run(files, db, (migrator) => migrator.migrateDown())
  }

  /** Migrates up or down so that `version` is the last applied (0: revert everything). */
  async migrateTo(version: number): Promise<MigrateResult> {
    const files = await this.#provider.loadFiles()
    const db = await this.#guard(() => this.#connect())
    const target = files.find((f) => f.version === version)
    if (version !== 0 && !target) {
      throw new MigrationError('NOT_FOUND', `no migration file has version ${version}`)
    }
    const status = await this.status()
    this.#assertDownFiles(files, status.applied.filter((a) => a.version > version).map((a) => a.version))
    return this.#run(files, db, (migrator) => migrator.migrateTo(target ? target.name : NO_MIGRATIONS))
  }

  /** Closes the connection the runner opened (not a `db` it was given). */
  async close(): Promise<void> {
    const [db, close] = [this.#db, this.#close]
    this.#db = undefined
    this.#close = undefined
    if (db) await db.catch(() => {})
    await close?.()
  }

  #assertDownFiles(files: readonly MigrationFile[], versions: readonly number[]): void {
    const without = versions.map((v) => files.find((f) => f.version === v)).filter((f) => f && !f.down)
    if (without.length) {
      throw new MigrationError(
        'NOT_FOUND',
        `cannot revert ${without.map((f) => f!.fileName).join(', ')}: no .down.sql file (write ${without.map((f) => `${f!.name}.down.sql`).join(', ')})`,
        { file: without[0]!.fileName },
      )
    }
  }

  async #run(
    files: readonly MigrationFile[],
    db: Kysely<any>,
    go: (migrator: Migrator) => Promise<MigrationResultSet>,
    seen?: LedgerSnapshot,
    bookkeepingExists = false,
  ): Promise<MigrateResult> {
    // Refuse drift before anything is created: a refused run leaves the database as it was.
    const before = seen ?? (await this.#guard(() => readSnapshot(db)))
    if (!this.#props.allowDrift) assertNoDrift(findDrift(files, before.ledger))
    // A database without the bookkeeping tables gets them in one round trip, so that
    // Kysely's Migrator (told they exist) and the provider need not probe and create them.
    if (!bookkeepingExists) await this.#guard(() => bootstrapBookkeeping(db))

    this.#events = []
    // Each file commits on its own (its SQL and ledger row in one implicit transaction), so
    // files before a failure stay applied and are reported so, and opted-out files can run.
    const migrator = new Migrator({
      db: withMigratorIntrospection(db, { tablesExist: true }),
      provider: this.#provider,
      disableTransactions: true,
    })
    const outcome = await go(migrator)
    const events = new Map(this.#events.map((e) => [e.name, e]))
    const after = outcome.error ? await readSnapshot(db).catch(() => undefined) : undefined
    const committed = new Set(after?.ledger.map((r) => r.version))
    const results = (outcome.results ?? []).map((r): MigrationFileResult => {
      const file = files.find((f) => f.name === r.migrationName)!
      const event = events.get(r.migrationName)
      let status: MigrationFileStatus =
        r.status === 'Error' ? 'failed' : r.status === 'NotExecuted' || !event ? 'not-run' : event.kind
      // Truth comes from the ledger after a failure: Kysely may call rolled-back work a success.
      if (after && status !== 'failed' && r.direction === 'Up' && !committed.has(file.version)) status = 'not-run'
      return Object.freeze({
        version: file.version,
        name: file.name,
        fileName: event?.fileName ?? file.fileName,
        status,
        durationMs: event?.durationMs,
        atomic: event?.atomic ?? file.sql.transactional,
      })
    })
    if (outcome.error) throw new MigrationRunError(this.#wrap(outcome.error), results)
    const versions = new Set(before.ledger.map((r) => r.version))
    for (const event of this.#events) {
      if (event.kind === 'reverted') versions.delete(event.version)
      else versions.add(event.version)
    }
    return Object.freeze({ results, currentVersion: versions.size ? Math.max(...versions) : null })
  }

  #connect(): Promise<Kysely<any>> {
    this.#db ??= (async () => {
      if (this.#props.db) return this.#props.db
      const env = this.#props.env ?? process.env
      // Named before connecting, so that a failure to connect says where the URL came from.
      this.#source = resolveDatabaseUrl(this.#props.url, env).source
      // Pooled URLs get a lock that cannot outlive its transaction; see openMigrationDatabase.
      const target = await openMigrationDatabase({
        url: this.#props.url,
        env,
        driver: this.#props.driver,
        pooled: this.#props.pooled,
        dataDir: embeddedDataDir(env),
      })
      this.#source = target.source
      this.#url = target.url
      this.#lock = target.lock
      this.#close = () => target.close()
      if (target.source === 'embedded') {
        const log = this.#props.log ?? ((line: string) => process.stderr.write(`${line}\n`))
        log(`Using the embedded PGlite database in ${embeddedDataDir(env)} (set POSTGRES_URL_NON_POOLING or POSTGRES_URL to use a server)`)
      }
      return target.db
    })()
    return this.#db
  }

  /** Runs a database call, turning connection failures into a redacted CONNECTION_FAILED. */
  async #guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw this.#wrap(error)
    }
  }

  #wrap(error: unknown): MigrationError {
    const url = this.#url ?? this.#props.url
    const env = this.#props.env ?? process.env
    const candidates = [url, this.#props.url, ...DATABASE_URL_VARIABLES.map((name) => env[name])]
    const secrets = candidates.map((u) => passwordOf(u)).filter((s): s is string => !!s)
    if (error instanceof MigrationError) {
      return secrets.some((s) => error.message.includes(s)) ? new MigrationError(error.code, redact(error.message, secrets), { file: error.file, line: error.line, column: error.column }) : error
    }
    const message = redact(error instanceof Error ? error.message : String(error), secrets)
    const code = (error as { code?: string }).code
    if (/^corrupted migrations: previously executed migration (\S+) is missing/.test(message)) {
      return new MigrationError('MISSING_MIGRATION_FILE', `${message}; restore the file or point at the right folder`, { cause: error })
    }
    // Refusals at connection time (bad password, unknown database) are connection failures
    // like a refused socket; the rest keep the code their SQLSTATE maps to (57P01, a
    // terminated backend, is a CONNECTION_FAILED too).
    const refused = code === '28P01' || code === '28000' || code === '3D000'
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !refused) {
      const mapped = codeForServerError(code, message)
      if (mapped !== 'CONNECTION_FAILED') return new MigrationError(mapped, `${message} (SQLSTATE ${code})`, { cause: error })
    }
    const where = this.#source === 'db' ? 'the given Kysely instance' : this.#source === 'option' ? 'the url option' : this.#source
    const shown = url ? ` (${redact(url, secrets)})` : ''
    const text = typeof code === 'string' && code.startsWith('57P')
      ? `lost the connection to the database from ${where}${shown}: ${message} (SQLSTATE ${code})`
      : `cannot connect to the database from ${where}${shown}: ${message}`
    return new MigrationError('CONNECTION_FAILED', text, { cause: redactedCause(error, secrets) })
  }
}

function redactedCause(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error)) return error
  const copy = new Error(redact(error.message, secrets))
  copy.name = error.name
  // Keep the machine-readable code (28P01, ECONNREFUSED, …) for callers that branch on it.
  const code = (error as { code?: unknown }).code
  if (code !== undefined) Object.assign(copy, { code })
  return copy
}

function isLostConnection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === undefined ? /Connection terminated|ECONNRESET|EPIPE/i.test(String((error as Error).message)) : code === '57P01' || code === 'ECONNRESET' || code === 'EPIPE'
}
