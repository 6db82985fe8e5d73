import { PostgresAdapter, sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_LOCK_TABLE, MIGRATION_LOCK_ID } from 'kysely/migration'

import {
  DATABASE_URL_VARIABLES,
  embeddedDataDir,
  withBoundedSessionMigrationLock,
  openMigrationDatabase,
  resolveMigrationUrl,
  type OpenMigrationDatabaseOptions,
  resolveDatabaseUrl,
  redactUrl,
  type DatabaseDriver,
  type DatabaseUrlSource,
  type MigrationDatabase,
  type MigrationLockKind,
} from '../connect/index.js'
import { MigrationError } from '../errors/migration-error.js'
import { isLostConnection } from '../errors/sql-state.js'
import { StillRunningError } from './still-running-error.js'
import type { ApplyEvent } from '../provider/apply-migration.js'
import { rawQuery, readLedgerSnapshot } from '../provider/ledger.js'
import type { MigrationFile } from '../provider/migration-file.js'
import {
  planMigrations,
  type MigrationStatus,
  type MigrationTarget,
  type PendingMigration,
  type PlannedStep,
} from '../provider/migration-plan.js'
import { toMigrationError } from '../provider/migration-sql-error.js'
import { checkUpToDate } from '../provider/migration-state.js'
import type { MigrationTimeouts } from '../provider/migration-timeouts.js'
import { runMigrations, type RunOutcome, type RunSession } from '../provider/run-migrations.js'
import { SqlFileMigrationProvider } from '../provider/sql-file-migration-provider.js'
import { withLockTimeout } from '../provider/with-lock-timeout.js'
import type { GuardedPool } from '../connect/guarded-pool.js'
import type { SchemaDiff } from '../schema-diff/diff-schema.js'
import type { RoundTripReport } from '../schema-diff/verify-round-trip.js'
import { MigrationRunError, type MigrateResult, type MigrationFileResult } from './migration-run-error.js'
import { resolveTimeouts, type ResolvedTimeouts } from './resolve-timeouts.js'
import { wrapRunError } from './wrap-run-error.js'

/** Options of {@link MigrationRunner}; every one is optional. */
export interface MigrationRunnerOptions {
  /** A Kysely instance to migrate (the runner does not close it). */
  readonly db?: Kysely<any> | undefined
  /** A PostgreSQL URL. Default: from `env` (never from `.env` files), else the embedded database outside production. */
  readonly url?: string | undefined
  /** `true`: the embedded PGlite database whatever the environment holds; `false`: never. */
  readonly embedded?: boolean | undefined
  /** A folder of migration files. Default: the package's own migrations, bundled into its code. */
  readonly migrationFolder?: string | undefined
  /** Makes the files a migration set of their own, with its ledgers in this schema. Default: the package's ledgers. */
  readonly ledgerSchema?: string | undefined
  /** Migrate even when applied files changed or are gone. Default false. */
  readonly allowDrift?: boolean | undefined
  /** The bounds of a run: lock, lock wait, connect, statement, embedded busy (see {@link MigrationTimeouts}). */
  readonly timeouts?: MigrationTimeouts | undefined
  /** Where URLs are looked up. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Default: pg over TCP for a URL, the embedded PGlite without one (see `chooseDriver`). */
  readonly driver?: DatabaseDriver | undefined
  /** Declare the URL pooled (PgBouncer in transaction mode) or direct, overriding detection. */
  readonly pooled?: boolean | undefined
  /** One-line notices (e.g. which database is used). Default: stderr. */
  readonly log?: ((line: string) => void) | undefined
  /** Log which setting chose the database (never a `url` or `db` given here). Default true. */
  readonly announce?: boolean | undefined
  /** Called as each file commits (then files go one per round trip, not in batches). */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
  /** Once aborted, the running statement is canceled and rolled back; the call throws `INTERRUPTED`. */
  readonly signal?: AbortSignal | undefined
}

// How much longer than lockMs the tool waits for an answer to its own query before counting the connection dead.
const ANSWER_MARGIN_MS = 10_000

// How long an interrupted run waits for the server to roll back the canceled statement.
const INTERRUPT_GRACE_MS = 10_000

const DONE = { apply: 'applied', adopt: 'adopted', heal: 'healed', revert: 'reverted' } as const

/** What the front's boot check leaves the engine: its open pool, and whether it found work (not a failure). */
export interface EngineHandover {
  readonly pool: GuardedPool
  readonly checked: boolean
}

/** The engine behind `MigrationRunner`, loaded when a run needs more than the boot check. */
export class RunnerEngine {
  readonly #props: MigrationRunnerOptions
  readonly #provider: SqlFileMigrationProvider
  readonly #timeouts: ResolvedTimeouts
  readonly #log: (line: string) => void
  #db: Promise<Kysely<any>> | undefined
  #target: MigrationDatabase<any> | undefined
  #url: string | undefined
  #source: DatabaseUrlSource | 'db' = 'db'
  #lock: MigrationLockKind | 'given' = 'given'
  #session: RunSession | undefined
  #handover: EngineHandover | undefined

  constructor(
    options: MigrationRunnerOptions = {},
    provider = new SqlFileMigrationProvider(options),
    handover?: EngineHandover,
  ) {
    this.#props = Object.freeze({ ...options })
    this.#provider = provider
    this.#timeouts = resolveTimeouts(options.timeouts, options.env)
    this.#log = options.log ?? ((line) => void process.stderr.write(`${line}\n`))
    this.#handover = handover
  }

  get source(): DatabaseUrlSource | 'db' {
    return this.#source
  }

  get lock(): MigrationLockKind | 'given' {
    return this.#lock
  }

  get inFlight(): { readonly files: readonly string[]; readonly backendPid: number | undefined } | undefined {
    const session = this.#session
    return session?.running.length
      ? Object.freeze({ files: session.running, backendPid: this.#backendPid(session) })
      : undefined
  }

  // Unknown behind a transaction-mode pooler (each transaction may get another) and in-process.
  #backendPid(session: RunSession): number | undefined {
    return this.#lock === 'transaction' || this.#source === 'embedded' ? undefined : session.backendPid
  }

  async migrate(): Promise<MigrateResult> {
    // The front just read the files and found work on this pool; the run's check under the lock decides anyway.
    if (this.#handover?.checked) return this.#execute(await this.#guard(() => this.#connect()), { direction: 'up' })
    const heads = this.#provider.scanFiles()
    const db = await this.#guard(() => this.#connect())
    // A read, so safe to try twice: a pooled connection's backend may have been terminated while idle.
    const read = () => this.#bounded(db, (c) => checkUpToDate(rawQuery(c), heads, this.#props.ledgerSchema))
    const upToDate = await this.#guard(() =>
      read().catch((error: unknown) => (isLostConnection(error) ? read() : Promise.reject(error))),
    )
    if (upToDate) return Object.freeze({ results: [], currentVersion: upToDate.currentVersion })
    return this.#execute(db, { direction: 'up' })
  }

  async status(): Promise<MigrationStatus> {
    return (await this.#statusAndPending()).status
  }

  async plan(): Promise<readonly (PendingMigration & { readonly statementTexts: readonly string[] })[]> {
    const { status, pending } = await this.#statusAndPending()
    if (status.refusal) throw status.refusal
    return status.pending.map((p) => {
      const statementTexts = pending.get(p.version)!.sql.statements.map((s) => s.text)
      return Object.freeze({ ...p, statementTexts })
    })
  }

  // Only pending files are parsed (statement counts, texts): an up-to-date status parses nothing.
  async #statusAndPending(): Promise<{ status: MigrationStatus; pending: ReadonlyMap<number, MigrationFile> }> {
    const heads = this.#provider.scanFiles()
    const db = await this.#guard(() => this.#connect())
    const snapshot = await this.#guard(() => this.#bounded(db, (c) => readLedgerSnapshot(c, this.#props.ledgerSchema)))
    const status = planMigrations(heads, snapshot, { allowDrift: this.#props.allowDrift })
    const versions = new Set(status.pending.map((p) => p.version))
    const files = await this.#provider.parseFiles(heads.filter((h) => versions.has(h.version)))
    const pending = new Map(files.map((f) => [f.version, f]))
    const parsed = (p: PendingMigration): PendingMigration => {
      const { sql: parsedSql } = pending.get(p.version)!
      return Object.freeze({ ...p, statements: parsedSql.statements.length, atomic: parsedSql.transactional })
    }
    return {
      status: Object.freeze({
        ...status,
        pending: status.pending.map(parsed),
        outOfOrder: status.outOfOrder.map(parsed),
      }),
      pending,
    }
  }

  async down(options: { readonly to?: number } = {}): Promise<MigrateResult> {
    const db = await this.#guard(() => this.#connect())
    return this.#execute(db, { direction: 'down', to: options.to })
  }

  // 0 reverts everything, a `000_…` file included.
  async migrateTo(version: number): Promise<MigrateResult> {
    if (version !== 0 && !this.#provider.scanFiles().some((f) => f.version === version)) {
      throw new MigrationError('NOT_FOUND', `no migration file has version ${version}`)
    }
    const db = await this.#guard(() => this.#connect())
    return this.#execute(db, { direction: 'to', to: version })
  }

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
          const shadow = this.#scratch(url, migrationFolder)
          await shadow.migrate().finally(() => shadow.close())
        },
      }),
    )
  }

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
      const runner = (): RunnerEngine => (scratch ??= this.#scratch(shadow.url, this.#provider.migrationFolder))
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

  async close(): Promise<void> {
    const [db, target] = [this.#db, this.#target]
    this.#db = undefined
    this.#target = undefined
    if (db) await db.catch(() => {})
    await target?.close()
  }

  // A quiet engine for a shadow database, bounded and interrupted as this one is.
  #scratch(url: string, migrationFolder: string | undefined): RunnerEngine {
    const { lockMs } = this.#timeouts
    return new RunnerEngine({ url, migrationFolder, log: () => {}, timeouts: { lockMs }, signal: this.#props.signal })
  }

  // Every run, up or down: the one engine under the connection's migration lock, then results true to what committed.
  async #execute(db: Kysely<any>, target: MigrationTarget): Promise<MigrateResult> {
    const heads = this.#provider.scanFiles()
    const adapter = db.getExecutor().adapter
    const lock = Object.freeze({ lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID })
    let outcome: RunOutcome | undefined
    const session: RunSession = { running: [] }
    const { signal } = this.#props
    const { lockWaitMs } = this.#timeouts
    const underLock = async (conn: Kysely<any>): Promise<void> => {
      // The lock's own wait is bounded by lockWaitMs; the answer to its queries on top of that.
      const bound = this.#answerBoundMs(lockWaitMs > 0 ? lockWaitMs : -1)
      await this.#answered(adapter.acquireMigrationLock(conn, lock), bound, 'the migration lock request')
      try {
        outcome = await runMigrations(conn, heads, {
          target,
          parse: (files) => this.#provider.parseFiles(files),
          allowDrift: this.#props.allowDrift,
          schema: this.#props.ledgerSchema,
          timeouts: this.#timeouts,
          onApply: this.#props.onApply,
          // A caller watching progress hears of each file as it commits; an app's boot gets batches.
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
    // After a failure the truth comes from the ledger, read on a fresh connection.
    const after =
      error === undefined
        ? undefined
        : await this.#bounded(db, (c) => readLedgerSnapshot(c, this.#props.ledgerSchema)).catch(() => undefined)
    const inLedger = new Set(after?.rows.map((r) => r.version))
    const isDone = (step: PlannedStep<MigrationFile>) => inLedger.has(step.file.version) !== (step.action === 'revert')
    // A no-transaction file whose work and schema_versions row committed, and Kysely's row failed: applied.
    const bookkeeping = done.error instanceof MigrationError && done.error.code === 'BOOKKEEPING_FAILED'
    const recordedOnlyByUs = bookkeeping && after && done.failed && isDone(done.failed) ? done.failed : undefined
    let failed = done.failed
    if (failed && after && !recordedOnlyByUs && isDone(failed)) {
      // A batch whose connection was lost names its first file; the ledger says which one was running.
      failed = done.steps.slice(done.steps.indexOf(failed)).find((s) => !isDone(s))
    }
    const statusOf = (step: PlannedStep<MigrationFile>): MigrationFileResult['status'] => {
      if (step === recordedOnlyByUs) return 'applied'
      if (step === failed) return 'failed'
      if (after && !isDone(step)) return 'not-run'
      return events.get(step.file.name)?.kind ?? (after ? DONE[step.action] : 'not-run')
    }
    const results = done.steps.map((step): MigrationFileResult => {
      const event = events.get(step.file.name)
      const sqlFile = step.action === 'revert' && step.file.down ? step.file.down : step.file
      return Object.freeze({
        version: step.file.version,
        name: step.file.name,
        fileName: event?.fileName ?? sqlFile.fileName,
        status: statusOf(step),
        durationMs: event?.durationMs,
        atomic: event?.atomic ?? sqlFile.sql.transactional,
      })
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
    // The ledger as read under the lock (with what another migrator applied meanwhile), plus this run's files.
    const versions = [...done.versions]
    return Object.freeze({ results, currentVersion: versions.length ? Math.max(...versions) : null })
  }

  // On abort: cancel the running statement and wait for its rollback; a lock wait is dropped at once.
  #cancelOnAbort(db: Kysely<any>, run: Promise<void>, session: RunSession, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const giveUp = (error: MigrationError): void => {
        this.#target?.sever()
        reject(error)
      }
      const onAbort = (): void => {
        const pid = session.backendPid
        if (pid === undefined) {
          giveUp(new MigrationError('INTERRUPTED', 'interrupted while waiting for the migration lock; no file ran'))
          return
        }
        const files = session.running.join(', ')
        // Behind a transaction-mode pooler the pid need not be the file's: a cancel could hit another client.
        const known = this.#backendPid(session) !== undefined
        if (files && known) sql`select pg_catalog.pg_cancel_backend(${pid})`.execute(db).catch(() => {})
        const where = known ? `, backend pid ${pid}` : this.#lock === 'transaction' ? ' (through the pooler)' : ''
        const within = `within ${INTERRUPT_GRACE_MS} ms${known ? ' of the cancel request' : ''}`
        const still = `${files || 'its last statement'} may still be running on the server${where}`
        const reason = `interrupted, but the run did not stop ${within}: ${still}`
        timer = setTimeout(() => giveUp(new StillRunningError(reason, known ? pid : undefined)), INTERRUPT_GRACE_MS)
      }
      run
        .finally(() => {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
        })
        .then(resolve, reject)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  #bounded<T>(db: Kysely<any>, body: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    const ms = this.#timeouts.lockMs
    // On a direct URL the runner opened, every session starts with this lock_timeout already.
    return this.#answered(withLockTimeout(db, ms, body, { preset: this.#target?.sessionLockTimeoutMs === ms }))
  }

  // Bounds the tool's own queries (a file's statements may rightly run for hours); past it the sockets are destroyed.
  #answered<T>(query: Promise<T>, ms = this.#answerBoundMs(0), what = "the migration tool's own query"): Promise<T> {
    if (ms <= 0 || this.#source === 'embedded') return query
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#target?.sever()
        const reason = `no answer within ${ms} ms to ${what}: the server or the network stopped responding, so the connection was closed`
        reject(new MigrationError('CONNECTION_FAILED', reason, { cause: new Error(reason) }))
      }, ms)
      query.then(resolve, reject).finally(() => clearTimeout(timer))
    })
  }

  // For an answer that may first wait `waitMs` on the server; 0: forever.
  #answerBoundMs(waitMs: number): number {
    const { lockMs } = this.#timeouts
    return lockMs > 0 && waitMs >= 0 ? Math.max(lockMs, waitMs) + ANSWER_MARGIN_MS : 0
  }

  #connect(): Promise<Kysely<any>> {
    this.#db ??= (async () => {
      if (this.#props.db) return withBoundedLock(this.#props.db, this.#timeouts.lockWaitMs)
      const env = this.#props.env ?? process.env
      const folder = embeddedDataDir(env)
      // Pooled URLs get a lock that cannot outlive its transaction; no URL in production is NO_DATABASE_URL.
      const options: OpenMigrationDatabaseOptions = {
        url: this.#props.url,
        env,
        embedded: this.#props.embedded,
        driver: this.#props.driver,
        pooled: this.#props.pooled,
        dataDir: folder,
        timeouts: this.#timeouts,
        pool: this.#handover?.pool,
        onBusy: (holder) => {
          const command = holder?.command ? ` (${holder.command})` : ''
          const who = holder ? `process ${holder.pid}${command}` : 'another process'
          const bound = this.#timeouts.embeddedBusyMs
          this.#log(`The embedded database in ${folder} is open in ${who}; waiting up to ${bound} ms for it to close`)
        },
      }
      // Decided before connecting, so that a failure to connect says where the URL came from.
      const resolved = resolveMigrationUrl(options)
      this.#source = resolved.source
      this.#url = resolved.url
      this.#handover = undefined
      const target = await openMigrationDatabase(options, resolved)
      this.#lock = target.lock
      this.#target = target
      // With four variables, the wrong one can win: say which setting chose the database.
      if (this.#props.announce === false) return target.db
      if (target.source === 'embedded') {
        const why =
          this.#props.embedded === true ? 'embedded: true' : `none of ${DATABASE_URL_VARIABLES.join(', ')} is set`
        this.#log(`Using the embedded PGlite database in ${folder} (${why})`)
      } else if (target.source !== 'option' && target.url) {
        this.#log(`Using the database from ${target.source} (${redactUrl(target.url)})`)
      }
      return target.db
    })()
    return this.#db
  }

  // Connection failures become a redacted CONNECTION_FAILED; an abort gives up at once (it only reads).
  async #guard<T>(call: () => Promise<T>): Promise<T> {
    const signal = this.#props.signal
    const stopped = () => new MigrationError('INTERRUPTED', 'interrupted; nothing was written')
    try {
      if (!signal) return await call()
      signal.throwIfAborted()
      return await new Promise<T>((resolve, reject) => {
        const onAbort = (): void => {
          this.#target?.sever()
          reject(stopped())
        }
        signal.addEventListener('abort', onAbort, { once: true })
        call()
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', onAbort))
      })
    } catch (error) {
      if (signal?.aborted && !(error instanceof MigrationError)) throw stopped()
      throw this.#wrap(error)
    }
  }

  #wrap(error: unknown): MigrationError {
    return wrapRunError(error, {
      url: this.#url ?? this.#props.url,
      urlOption: this.#props.url,
      env: this.#props.env ?? process.env,
      source: this.#source,
      connectMs: this.#timeouts.connectMs,
    })
  }
}

// Kysely's own session lock waits an hour holding a snapshot; one already wrapped, or another adapter, is kept.
function withBoundedLock(db: Kysely<any>, waitTimeoutMs: number): Kysely<any> {
  if (db.getExecutor().adapter.constructor !== PostgresAdapter) return db
  return withBoundedSessionMigrationLock(db, { waitTimeoutMs })
}

/** Where the canceled statement was, and what of its file stayed (nothing of an atomic file). */
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
