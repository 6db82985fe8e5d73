import { PostgresAdapter, sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, MIGRATION_LOCK_ID } from 'kysely/migration'

import {
  DATABASE_URL_VARIABLES,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  embeddedBusyTimeoutMs,
  embeddedDataDir,
  withBoundedSessionMigrationLock,
  openMigrationDatabase,
  resolveMigrationUrl,
  type OpenMigrationDatabaseOptions,
  resolveDatabaseUrl,
  redactUrl,
  type DatabaseDriver,
  type DatabaseUrlSource,
  type MigrationLockKind,
} from '../connect/index.js'
import { MigrationError } from '../errors/migration-error.js'
import { wrapRunError } from './wrap-run-error.js'
import {
  MigrationRunError,
  type MigrateResult,
  type MigrationFileResult,
  type MigrationFileStatus,
} from './migration-run-error.js'
import type { ApplyEvent } from '../provider/apply-migration.js'
import { rawQuery, readLedgerSnapshot } from '../provider/ledger.js'
import { toMigrationError } from '../provider/migration-sql-error.js'
import type { MigrationFile } from '../provider/migration-file.js'
import {
  planMigrations,
  type MigrationStatus,
  type MigrationTarget,
  type PendingMigration,
  type PlannedStep,
} from '../provider/migration-plan.js'
import { checkUpToDate } from '../provider/migration-state.js'
import { runMigrations, type RunOutcome, type RunSession } from '../provider/run-migrations.js'
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  providerFor,
  type SqlFileMigrationProvider,
} from '../provider/sql-file-migration-provider.js'
import { withLockTimeout } from '../provider/with-lock-timeout.js'
import { isLostConnection } from '../errors/sql-state.js'
import type { GuardedPool } from '../connect/guarded-pool.js'
import type { SchemaDiff } from '../schema-diff/diff-schema.js'
import type { RoundTripReport } from '../schema-diff/verify-round-trip.js'

/** Options of {@link MigrationRunner}; every one is optional. */
export interface MigrationRunnerOptions {
  /** A Kysely instance to migrate (the runner does not close it). */
  readonly db?: Kysely<any> | undefined
  /**
   * A PostgreSQL URL. Default: the first set of `POSTGRES_URL_NON_POOLING`, `POSTGRES_URL`,
   * `POSTGRES_PRISMA_URL`, `DATABASE_URL`, else the embedded database, except where the process
   * looks like production (`NODE_ENV=production`, `VERCEL_ENV`, `VERCEL=1`): there no URL is a
   * `NoDatabaseUrlError` (code `NO_DATABASE_URL`). The runner reads the environment it is
   * given; it never loads `.env` files (an app loads them itself; the CLI does).
   */
  readonly url?: string | undefined
  /**
   * `true`: the embedded PGlite database, whatever the environment holds (also in production);
   * `false`: never the embedded database. Default: the embedded database only when no URL is
   * set and the process does not look like production.
   */
  readonly embedded?: boolean | undefined
  /** A folder of migration files. Default: the package's own migrations, bundled into its code. */
  readonly migrationFolder?: string | undefined
  /**
   * Makes these files a migration set of their own, with its ledgers (`schema_versions`,
   * `kysely_migration`) in this schema, apart from the package's: an app's own migrations
   * beside the Wukong schema. Default: the package's ledgers, found in whichever schema holds
   * them (a new database: `public`).
   */
  readonly ledgerSchema?: string | undefined
  /** Migrate even when applied files changed or are gone. Default false. */
  readonly allowDrift?: boolean | undefined
  /**
   * `lock_timeout` for each file's statements, and for the runner's own reads and writes of
   * the ledger tables (before and under the migration lock), so that another session
   * holding one of them fails the run with `LOCK_TIMEOUT` instead of hanging it.
   * Default 10 000 ms; 0 waits forever.
   */
  readonly lockTimeoutMs?: number | undefined
  /**
   * Longest wait for another migrator's migration lock, then `LOCK_TIMEOUT` naming it.
   * Default 300 000 ms; 0 waits forever. Applies to URLs the runner opens and to a `db` given
   * with PostgreSQL's adapter.
   */
  readonly lockWaitTimeoutMs?: number | undefined
  /**
   * Longest wait for a connection (pg driver): TCP, TLS and the server's answer. The URL's
   * libpq `connect_timeout` wins. Default 30 000 ms; 0 waits forever.
   */
  readonly connectTimeoutMs?: number | undefined
  /** `statement_timeout` for each file's statements. Default 0: no limit. */
  readonly statementTimeoutMs?: number | undefined
  /** Where URLs are looked up. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Default: pg over TCP for a URL, the embedded PGlite without one (see `chooseDriver`). */
  readonly driver?: DatabaseDriver | undefined
  /** Declare the URL pooled (PgBouncer in transaction mode) or direct, overriding detection. */
  readonly pooled?: boolean | undefined
  /**
   * The embedded database: longest wait, in ms, for another process to close its folder
   * (PGlite serves one process at a time), then an `EmbeddedDatabaseBusyError`
   * (`EMBEDDED_DATABASE_BUSY`); 0 fails at once. Default `WUKONG_PGLITE_BUSY_TIMEOUT_MS`, else 10 000.
   */
  readonly busyTimeoutMs?: number | undefined
  /** One-line notices (e.g. which database is used). Default: stderr. */
  readonly log?: ((line: string) => void) | undefined
  /**
   * Log, once connected, which setting chose the database (the variable and the redacted URL,
   * or the embedded database's folder). Default true; a `url` or `db` given here is not logged.
   */
  readonly announce?: boolean | undefined
  /**
   * Called after each file is applied, adopted, healed or reverted, as it commits. With it,
   * `migrate()` sends one file per round trip; without it, consecutive transactional files
   * go in batches (one round trip for many files, each still its own transaction).
   */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
  /**
   * Stops the runner: once aborted, no further file starts, the statement running on the
   * server is canceled (`pg_cancel_backend` from another connection) and its transaction
   * rolled back, and the call throws a {@link MigrationRunError} with code `INTERRUPTED`
   * whose results say what committed. A no-transaction file keeps the statements that had
   * finished. The embedded database cannot be canceled mid-statement, nor a statement behind a
   * transaction-mode pooler (its server session is not known): those stop between files.
   */
  readonly signal?: AbortSignal | undefined
}

export { MigrationRunError, type MigrateResult, type MigrationFileResult, type MigrationFileStatus }

/** What the front's boot check leaves the engine: its open pool, and whether it found work (not a failure). */
export interface EngineHandover {
  readonly pool: GuardedPool
  readonly checked: boolean
}

/**
 * The migration engine behind {@link MigrationRunner} (runner.ts), loaded when a run needs more
 * than the boot check: it holds Kysely's migration lock through its connection's adapter and
 * writes both ledgers in each file's transaction.
 */
export class RunnerEngine {
  readonly #props: MigrationRunnerOptions
  readonly #provider: SqlFileMigrationProvider
  #db: Promise<Kysely<any>> | undefined
  #close: (() => Promise<void>) | undefined
  #url: string | undefined
  #source: DatabaseUrlSource | 'db' = 'db'
  #lock: MigrationLockKind | 'given' = 'given'
  #sessionLockTimeoutMs: number | undefined
  #sever: (() => void) | undefined
  #session: RunSession | undefined
  #handover: EngineHandover | undefined

  constructor(options: MigrationRunnerOptions = {}, provider = providerFor(options), handover?: EngineHandover) {
    this.#props = Object.freeze({ ...options })
    this.#provider = provider
    this.#handover = handover
  }

  /** The folder of migration files; undefined for the package's bundled migrations. */
  get migrationFolder(): string | undefined {
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

  /**
   * The files a run has in flight on the server and its server process (unknown behind a
   * transaction-mode pooler), while `migrate()`, `down()` or `migrateTo()` is applying them;
   * undefined otherwise.
   */
  get inFlight(): { readonly files: readonly string[]; readonly backendPid: number | undefined } | undefined {
    const session = this.#session
    return session?.running.length
      ? Object.freeze({ files: session.running, backendPid: this.#backendPid(session) })
      : undefined
  }

  /** The run's server process, when it is the one running its files (not behind a pooler, not in-process). */
  #backendPid(session: RunSession): number | undefined {
    return this.#lock === 'transaction' || this.#source === 'embedded' ? undefined : session.backendPid
  }

  /**
   * Applies every pending file. On an up-to-date database this is one query (digests of the
   * files' versions, checksums and names compared on the server) and never reads the catalog.
   * With work to do, it holds Kysely's migration lock (the bounded one this runner's connection
   * carries) and applies each file in one round trip that commits its SQL with both ledgers'
   * rows, consecutive transactional files batched into one round trip (each still its own
   * transaction). Throws a {@link MigrationRunError}.
   */
  async migrate(): Promise<MigrateResult> {
    const heads = this.#provider.scanFiles()
    const checked = this.#handover?.checked
    const db = await this.#guard(() => this.#connect())
    // The front just found work on this pool; the run's check under the lock decides anyway.
    if (checked) return this.#execute(db, { direction: 'up' })
    // A read, so safe to try twice: a pool may hand out a connection whose backend was
    // terminated while it sat idle (a failover, an admin), and the second try gets a new one.
    const read = () => this.#bounded(db, (c) => checkUpToDate(rawQuery(c), heads, this.#schema))
    const upToDate = await this.#guard(() =>
      read().catch((error: unknown) => (isLostConnection(error) ? read() : Promise.reject(error))),
    )
    if (upToDate) return Object.freeze({ results: [], currentVersion: upToDate.currentVersion })
    return this.#execute(db, { direction: 'up' })
  }

  /**
   * Where the database stands: applied (with checksum check), pending, edited, renamed, missing,
   * out of order, adopted, and what `migrate()` would refuse with. Reads only.
   */
  async status(): Promise<MigrationStatus> {
    const heads = this.#provider.scanFiles()
    const db = await this.#guard(() => this.#connect())
    const snapshot = await this.#guard(() => this.#bounded(db, (c) => readLedgerSnapshot(c, this.#schema)))
    const status = planMigrations(heads, snapshot, { allowDrift: this.#props.allowDrift })
    // Only pending files are parsed (for their statement counts): an up-to-date status parses nothing.
    const pending = new Set(status.pending.map((p) => p.version))
    const files = await this.#provider.parseFiles(heads.filter((h) => pending.has(h.version)))
    const byVersion = new Map(files.map((f) => [f.version, f]))
    const parsed = (p: PendingMigration): PendingMigration => {
      const { sql: parsedSql } = byVersion.get(p.version)!
      return Object.freeze({ ...p, statements: parsedSql.statements.length, atomic: parsedSql.transactional })
    }
    return Object.freeze({ ...status, pending: status.pending.map(parsed), outOfOrder: status.outOfOrder.map(parsed) })
  }

  /** The files `migrate()` would apply, with their statements, touching nothing. */
  async plan(): Promise<readonly (PendingMigration & { readonly statementTexts: readonly string[] })[]> {
    const files = await this.#provider.loadFiles()
    const status = await this.status()
    if (status.refusal) throw status.refusal
    return status.pending.map((p) =>
      Object.freeze({
        ...p,
        statementTexts: files.find((f) => f.version === p.version)!.sql.statements.map((s) => s.text),
      }),
    )
  }

  /** Reverts the last applied file (with its `.down.sql`), or every file above `to`. */
  async down(options: { readonly to?: number } = {}): Promise<MigrateResult> {
    const db = await this.#guard(() => this.#connect())
    return this.#execute(db, { direction: 'down', to: options.to })
  }

  /**
   * Migrates up or down so that `version` is the last applied. 0 reverts everything, a
   * `000_…` file included: 0 always means "before every file".
   */
  async migrateTo(version: number): Promise<MigrateResult> {
    const files = await this.#provider.loadFiles()
    if (version !== 0 && !files.some((f) => f.version === version)) {
      throw new MigrationError('NOT_FOUND', `no migration file has version ${version}`)
    }
    const db = await this.#guard(() => this.#connect())
    return this.#execute(db, { direction: 'to', to: version })
  }

  /** See MigrationRunner.diff. */
  async diff(options: { readonly shadowUrl?: string } = {}): Promise<SchemaDiff> {
    const files = await this.#provider.loadFiles()
    const db = await this.#guard(() => this.#connect())
    // Loaded on use: an app's boot never needs the catalog reader or the shadow database.
    const { diffSchema } = await import('../schema-diff/diff-schema.js')
    return this.#guard(() =>
      diffSchema({
        live: db,
        liveUrl: this.#url,
        shadowUrl: options.shadowUrl,
        files,
        build: async (url, migrationFolder) => {
          const shadow = new RunnerEngine({
            url,
            migrationFolder,
            log: () => {},
            lockTimeoutMs: this.#props.lockTimeoutMs,
            signal: this.#props.signal,
          })
          try {
            await shadow.migrate()
          } finally {
            await shadow.close()
          }
        },
      }),
    )
  }

  /** See MigrationRunner.verifyRoundTrip. */
  async verifyRoundTrip(
    options: { readonly shadowUrl?: string; readonly requireDown?: boolean } = {},
  ): Promise<RoundTripReport> {
    const files = await this.#provider.loadFiles()
    const [{ readSchemaCatalog }, { openShadowDatabase }, { verifyRoundTrip }, { createDatabase }] = await Promise.all([
      import('../schema-diff/read-schema-catalog.js'),
      import('../schema-diff/shadow-database.js'),
      import('../schema-diff/verify-round-trip.js'),
      import('../connect/create-database.js'),
    ])
    const serverUrl = options.shadowUrl
      ? undefined
      : resolveDatabaseUrl(this.#props.url, this.#props.env ?? process.env).url
    return this.#guard(async () => {
      const shadow = await openShadowDatabase({ serverUrl, shadowUrl: options.shadowUrl, prefix: 'wk_roundtrip' })
      let scratch: RunnerEngine | undefined
      let reader: Kysely<any> | undefined
      const runner = (): RunnerEngine =>
        (scratch ??= new RunnerEngine({
          url: shadow.url,
          migrationFolder: this.migrationFolder,
          log: () => {},
          lockTimeoutMs: this.#props.lockTimeoutMs,
          signal: this.#props.signal,
        }))
      const close = async (): Promise<void> => {
        await scratch?.close()
        await reader?.destroy()
        ;[scratch, reader] = [undefined, undefined]
      }
      try {
        return await verifyRoundTrip(
          files,
          {
            migrateTo: async (version) => void (await runner().migrateTo(version)),
            down: async () => void (await runner().down()),
            catalog: async () => {
              reader ??= await createDatabase({ url: shadow.url, driver: 'pg', max: 1 })
              return readSchemaCatalog(reader)
            },
            reset: async () => {
              await close()
              await shadow.reset()
            },
          },
          options,
        )
      } finally {
        await close()
        await shadow.drop()
      }
    })
  }

  /** Closes the connection the runner opened (not a `db` it was given). */
  async close(): Promise<void> {
    const [db, close] = [this.#db, this.#close]
    this.#db = undefined
    this.#close = undefined
    this.#sessionLockTimeoutMs = undefined
    this.#sever = undefined
    if (db) await db.catch(() => {})
    await close?.()
  }

  get #schema(): string | undefined {
    return this.#props.ledgerSchema
  }

  /**
   * Every run, up or down: under the migration lock of this runner's connection, the one engine
   * plans and applies; afterwards the results are made true to what committed.
   */
  async #execute(db: Kysely<any>, target: MigrationTarget): Promise<MigrateResult> {
    const files = await this.#provider.loadFiles()
    // The lock of this runner's connection: the bounded session lock, or the transaction lock
    // for pooled URLs (see openMigrationDatabase), taken as Kysely's Migrator takes it.
    const adapter = db.getExecutor().adapter
    const lock = Object.freeze({ lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID })
    let outcome: RunOutcome | undefined
    const session: RunSession = { running: [] }
    const signal = this.#props.signal
    // The lock's own wait is bounded (lockWaitTimeoutMs); its queries get an answer bound on top.
    const lockWaitMs = this.#props.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS
    const underLock = async (conn: Kysely<any>): Promise<void> => {
      await this.#answered(
        adapter.acquireMigrationLock(conn, lock),
        this.#answerBoundMs(lockWaitMs > 0 ? lockWaitMs : -1),
        'the migration lock request',
      )
      try {
        outcome = await runMigrations(conn, files, {
          target,
          allowDrift: this.#props.allowDrift,
          schema: this.#schema,
          limits: {
            lockTimeoutMs: this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
            statementTimeoutMs: this.#props.statementTimeoutMs ?? 0,
          },
          onApply: this.#props.onApply,
          // A caller watching progress hears of each file as it commits: one file per round
          // trip (still with both ledgers in it). Without one (an app's boot), files go in batches.
          maxBatchFiles: this.#props.onApply ? 1 : undefined,
          signal,
          session,
          ownQuery: (query) => this.#answered(query),
        })
      } finally {
        await this.#answered(adapter.releaseMigrationLock(conn, lock))
      }
    }
    let failure: unknown
    this.#session = session
    try {
      // One session for the lock and the files, as Kysely's Migrator does.
      const run = db.isTransaction ? underLock(db) : db.connection().execute(underLock)
      await (signal ? this.#cancelOnAbort(db, run, session, signal) : run)
    } catch (error) {
      failure = error
    } finally {
      this.#session = undefined
    }
    if (!outcome) throw new MigrationRunError(this.#wrap(failure), [])
    const done: RunOutcome = outcome
    const error = done.error ?? failure
    const events = new Map(done.events.map((e) => [e.name, e]))
    // Truth comes from the ledger after a failure, read on a fresh connection.
    const after =
      error !== undefined
        ? await this.#bounded(db, (c) => readLedgerSnapshot(c, this.#schema)).catch(() => undefined)
        : undefined
    const inLedger = new Set(after?.rows.map((r) => r.version))
    const isDone = (step: PlannedStep<MigrationFile>): boolean =>
      step.action === 'revert' ? !inLedger.has(step.file.version) : inLedger.has(step.file.version)
    // A no-transaction file whose work and schema_versions row committed, after which Kysely
    // could not record it: applied, as schema_versions says (BOOKKEEPING_FAILED).
    const recordedOnlyByUs =
      isBookkeepingFailure(done.error) && done.failed && after && isDone(done.failed) ? done.failed : undefined
    let failed = done.failed
    if (failed && after && !recordedOnlyByUs && isDone(failed)) {
      // A batch whose connection was lost names its first file; the ledger (read on another
      // connection) says which of its files committed, and so which one was running.
      failed = done.steps.slice(done.steps.indexOf(failed)).find((s) => !isDone(s))
    }
    const results = done.steps.map((step): MigrationFileResult => {
      const event = events.get(step.file.name)
      let status: MigrationFileStatus =
        step === failed ? 'failed' : event ? event.kind : after && isDone(step) ? DONE[step.action] : 'not-run'
      if (step === recordedOnlyByUs) status = 'applied'
      else if (after && status !== 'failed' && !isDone(step)) status = 'not-run'
      return fileResult(step.file, status, event, step.action === 'revert')
    })
    if (error !== undefined) {
      // An error from a batch (a lost connection) names no file: the file that was running.
      const named =
        done.error !== undefined && failed && !(done.error instanceof MigrationError)
          ? toMigrationError(done.error, failed.file.fileName)
          : error
      const wrapped = this.#wrap(named)
      const atomic = results.find((r) => r.status === 'failed')?.atomic ?? true
      throw new MigrationRunError(signal?.aborted ? interrupted(wrapped, atomic) : wrapped, results)
    }
    // The ledger as read under the lock (with what another migrator applied while this one
    // waited for it), plus this run's files.
    const versions = [...done.versions]
    return Object.freeze({ results, currentVersion: versions.length ? Math.max(...versions) : null })
  }

  /**
   * Waits for a run; once `signal` aborts, cancels the statement the run's server process is
   * running (from another connection) and waits for the rollback no longer than
   * {@link INTERRUPT_GRACE_MS}. A run still waiting for the migration lock (nothing of it on
   * the server yet) is dropped at once, its sockets destroyed.
   */
  #cancelOnAbort(db: Kysely<any>, run: Promise<void>, session: RunSession, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const giveUp = (reason: string): void => {
        this.#sever?.()
        reject(new MigrationError('INTERRUPTED', reason))
      }
      const onAbort = (): void => {
        const pid = session.backendPid
        if (pid === undefined) {
          giveUp('interrupted while waiting for the migration lock; no file ran')
          return
        }
        const files = session.running.join(', ')
        // Behind a transaction-mode pooler each transaction may run on another server session:
        // the pid read first need not be the file's, and canceling it could hit another client.
        const known = this.#backendPid(session) !== undefined
        if (files && known) sql`select pg_catalog.pg_cancel_backend(${pid})`.execute(db).catch(() => {})
        const where = known ? `, backend pid ${pid}` : this.#lock === 'transaction' ? ' (through the pooler)' : ''
        timer = setTimeout(
          () =>
            giveUp(
              `interrupted, but the run did not stop within ${INTERRUPT_GRACE_MS} ms${known ? ' of the cancel request' : ''}: ` +
                `${files || 'its last statement'} may still be running on the server${where}`,
            ),
          INTERRUPT_GRACE_MS,
        )
      }
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      run.finally(done).then(resolve, reject)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Runs the runner's own bookkeeping queries under its lock timeout (see `lockTimeoutMs`). */
  #bounded<T>(db: Kysely<any>, body: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    const ms = this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
    // On a direct URL the runner opened, every session starts with this lock_timeout already.
    return this.#answered(
      withLockTimeout(db, ms, body, { preset: this.#sessionLockTimeoutMs === Math.max(0, Math.trunc(ms)) }),
    )
  }

  /**
   * Bounds the wait for the answer to one of the tool's own queries (not a file's statements,
   * which may rightly run for hours): `lockTimeoutMs` plus {@link ANSWER_MARGIN_MS} by default.
   * Past it the server or the network counts as gone: every socket of the runner is destroyed
   * (so nothing stays stuck behind the query) and the call fails with CONNECTION_FAILED.
   * Unbounded when `lockTimeoutMs` is 0, and for the embedded database (in this process).
   */
  #answered<T>(query: Promise<T>, ms = this.#answerBoundMs(0), what = "the migration tool's own query"): Promise<T> {
    if (ms <= 0 || this.#source === 'embedded') return query
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#sever?.()
        const reason = `no answer within ${ms} ms to ${what}: the server or the network stopped responding, so the connection was closed`
        reject(new MigrationError('CONNECTION_FAILED', reason, { cause: new Error(reason) }))
      }, ms)
      query.then(resolve, reject).finally(() => clearTimeout(timer))
    })
  }

  /** How long to wait for an answer that may first wait `waitMs` on the server; 0: forever. */
  #answerBoundMs(waitMs: number): number {
    const lock = this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
    return lock > 0 && waitMs >= 0 ? Math.max(lock, waitMs) + ANSWER_MARGIN_MS : 0
  }

  #connect(): Promise<Kysely<any>> {
    this.#db ??= (async () => {
      if (this.#props.db) return withBoundedLock(this.#props.db, this.#props.lockWaitTimeoutMs)
      const env = this.#props.env ?? process.env
      // Pooled URLs get a lock that cannot outlive its transaction; see openMigrationDatabase.
      // Without a URL in production it throws NO_DATABASE_URL rather than use the embedded one.
      const options: OpenMigrationDatabaseOptions = {
        url: this.#props.url,
        env,
        embedded: this.#props.embedded,
        driver: this.#props.driver,
        pooled: this.#props.pooled,
        dataDir: embeddedDataDir(env),
        lockWaitTimeoutMs: this.#props.lockWaitTimeoutMs,
        connectTimeoutMs: this.#props.connectTimeoutMs,
        lockTimeoutMs: this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        busyTimeoutMs: this.#props.busyTimeoutMs,
        pool: this.#handover?.pool,
        onBusy: (holder) => {
          const who = holder
            ? `process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`
            : 'another process'
          const bound = embeddedBusyTimeoutMs(this.#props.busyTimeoutMs, env)
          const folder = embeddedDataDir(env)
          this.#log(`The embedded database in ${folder} is open in ${who}; waiting up to ${bound} ms for it to close`)
        },
      }
      // Decided once, and named before connecting, so that a failure to connect says where the URL came from.
      const resolved = resolveMigrationUrl(options)
      this.#source = resolved.source
      this.#url = resolved.url
      this.#handover = undefined
      const target = await openMigrationDatabase(options, resolved)
      this.#source = target.source
      this.#url = target.url
      this.#lock = target.lock
      this.#sessionLockTimeoutMs = target.sessionLockTimeoutMs
      this.#close = () => target.close()
      this.#sever = () => target.sever()
      // Say which setting chose the database: with four variables, the wrong one can win.
      const log =
        this.#props.announce === false
          ? () => {}
          : (this.#props.log ?? ((line: string) => process.stderr.write(`${line}\n`)))
      if (target.source === 'embedded') {
        const why =
          this.#props.embedded === true ? 'embedded: true' : `none of ${DATABASE_URL_VARIABLES.join(', ')} is set`
        log(`Using the embedded PGlite database in ${embeddedDataDir(env)} (${why})`)
      } else if (target.source !== 'option' && target.url) {
        log(`Using the database from ${target.source} (${redactUrl(target.url)})`)
      }
      return target.db
    })()
    return this.#db
  }

  #log(line: string): void {
    if (this.#props.log) this.#props.log(line)
    else process.stderr.write(`${line}\n`)
  }

  /**
   * Runs a database call, turning connection failures into a redacted CONNECTION_FAILED; once
   * `signal` aborts, gives up on it at once with `INTERRUPTED` (it only reads).
   */
  async #guard<T>(call: () => Promise<T>): Promise<T> {
    const signal = this.#props.signal
    try {
      if (!signal) return await call()
      signal.throwIfAborted()
      return await new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          this.#sever?.()
          reject(new MigrationError('INTERRUPTED', 'interrupted; nothing was written'))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        call()
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', onAbort))
      })
    } catch (error) {
      if (signal?.aborted && !(error instanceof MigrationError))
        throw new MigrationError('INTERRUPTED', 'interrupted; nothing was written')
      throw this.#wrap(error)
    }
  }

  #wrap(error: unknown): MigrationError {
    return wrapRunError(error, {
      url: this.#url ?? this.#props.url,
      urlOption: this.#props.url,
      env: this.#props.env ?? process.env,
      source: this.#source,
      connectTimeoutMs: this.#props.connectTimeoutMs,
    })
  }
}

function isBookkeepingFailure(error: unknown): boolean {
  return error instanceof MigrationError && error.code === 'BOOKKEEPING_FAILED'
}

/**
 * A `db` given with PostgreSQL's own adapter gets the bounded session lock (Kysely's waits an
 * hour, holding a snapshot); one already wrapped, or with another adapter, is used as given.
 */
function withBoundedLock(db: Kysely<any>, waitTimeoutMs: number | undefined): Kysely<any> {
  const adapter = db.getExecutor().adapter
  if (adapter.constructor !== PostgresAdapter) return db
  return withBoundedSessionMigrationLock(db, { waitTimeoutMs })
}

/**
 * How much longer than `lockTimeoutMs` the runner waits for the answer to one of its own
 * queries before it counts the connection as dead (a stalled server, a stuck proxy).
 */
export const ANSWER_MARGIN_MS = 10_000

/** How long an interrupted run waits for the server to roll back the canceled statement. */
export const INTERRUPT_GRACE_MS = 10_000

/**
 * An interrupted run's error: where the canceled statement was, and what of its file stayed
 * (nothing of an atomic file; a no-transaction file's statements before that line).
 */
function interrupted(error: MigrationError, atomic: boolean): MigrationError {
  if (error.code === 'INTERRUPTED') return error
  const { file, line, column } = error
  const at = line === undefined ? '' : ` at line ${line}`
  const kept = atomic
    ? 'its transaction rolled back, nothing of it was applied'
    : `it is not atomic (-- wukong:no-transaction): its statements before line ${line ?? '?'} committed, and it is not recorded as applied`
  const reason = file ? `interrupted: ${file} was canceled on the server${at}; ${kept}` : `interrupted: ${error.reason}`
  return new MigrationError('INTERRUPTED', reason, { file, line, column, sqlState: error.sqlState, cause: error })
}

const DONE = { apply: 'applied', adopt: 'adopted', heal: 'healed', revert: 'reverted' } as const

/** One file's outcome, from the file and, when it ran, its event. */
function fileResult(
  file: MigrationFile,
  status: MigrationFileStatus,
  event: ApplyEvent | undefined,
  down: boolean,
): MigrationFileResult {
  const sqlFile = down && file.down ? file.down : file
  return Object.freeze({
    version: file.version,
    name: file.name,
    fileName: event?.fileName ?? sqlFile.fileName,
    status,
    durationMs: event?.durationMs,
    atomic: event?.atomic ?? sqlFile.sql.transactional,
  })
}
