import type { Kysely } from 'kysely'
import type { Migration, MigrationProvider } from 'kysely/migration'

import { applyDown, applyUp, type ApplyEvent, type ApplyLimits, type RunLedger } from './apply-migration.js'
import { assertNoDrift, findDrift } from './check-drift.js'
import { ensureAndReadLedger } from './ledger.js'
import type { MigrationFile, MigrationFileHead } from './migration-file.js'
import { parseMigrationFiles, scanMigrationFolder } from './read-migration-folder.js'
import { readSessionBaseline } from './session-baseline.js'
import { withLockTimeout } from './with-lock-timeout.js'
import { WUKONG_MIGRATIONS } from './wukong-migrations.js'

/**
 * The default `lock_timeout`: 10 000 ms, for each file's statements and for the tool's own
 * reads and writes of the ledger tables. Fail fast rather than hang a deploy (and queue every
 * query of the application behind a waiting ALTER TABLE).
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000

/** Options of {@link SqlFileMigrationProvider}. */
export interface SqlFileMigrationProviderProps {
  /**
   * Folder of `NNN_descriptive_name.sql` files, read (and re-read) from disk. Default: the
   * package's own migrations, bundled into its code at build time ({@link WUKONG_MIGRATIONS}),
   * which need neither a folder nor the SQL parser at run time and so survive an app bundler.
   */
  readonly migrationFolder?: string | undefined
  /**
   * Migrate even when applied files were edited (checksum drift) or are gone from the folder.
   * Default false: migrating refuses and names the files.
   */
  readonly allowDrift?: boolean | undefined
  /**
   * How long a file's statement may wait for a table lock another session holds before the
   * file fails (PostgreSQL's `lock_timeout`), so a busy table fails a deploy fast instead of
   * hanging it (and queueing every query behind it). Default 10 000 ms; 0 waits forever.
   */
  readonly lockTimeoutMs?: number | undefined
  /** PostgreSQL's `statement_timeout` for each statement of a file. Default 0: no limit. */
  readonly statementTimeoutMs?: number | undefined
  /** Called after each file is applied, adopted, healed or reverted. */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
}

/**
 * A Kysely `MigrationProvider` that turns `NNN_descriptive_name.sql` files into migrations and
 * keeps the `schema_versions` ledger in step with Kysely's `kysely_migration`: each file's SQL
 * and its ledger row commit together; versions the old runner applied are adopted, not re-run.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely/migration'
 * import { SqlFileMigrationProvider } from '@wukong/adapter-vercel'
 *
 * const migrator = new Migrator({
 *   db,
 *   provider: new SqlFileMigrationProvider({ migrationFolder: 'migrations' }),
 * })
 * const { error, results } = await migrator.migrateToLatest()
 * ```
 */
export class SqlFileMigrationProvider implements MigrationProvider {
  readonly #props: SqlFileMigrationProviderProps
  // One entry per Kysely run: the Migrator hands every migration of a run the same `db`
  // (its transaction, or its single connection), under its lock.
  readonly #runs = new WeakMap<object, Promise<RunLedger>>()

  constructor(props: SqlFileMigrationProviderProps = {}) {
    this.#props = Object.freeze({ ...props })
  }

  /** The folder this provider reads; undefined for the package's bundled migrations. */
  get migrationFolder(): string | undefined {
    return this.#props.migrationFolder
  }

  /**
   * Lists the folder and checks names, versions and encoding, without parsing SQL: what the
   * up-to-date check needs. Every call sees added, removed and edited files; only files whose
   * size and times prove them unchanged since they were last read are not read again.
   */
  scanFiles(): readonly MigrationFileHead[] {
    const folder = this.#props.migrationFolder
    if (folder === undefined) return WUKONG_MIGRATIONS
    return scanMigrationFolder(folder)
  }

  /**
   * Lists, validates and parses every file (as fresh as {@link scanFiles}; a text parsed
   * before is not parsed again). Throws a `MigrationError` naming the file on the first problem.
   */
  async loadFiles(): Promise<readonly MigrationFile[]> {
    if (this.#props.migrationFolder === undefined) return WUKONG_MIGRATIONS
    return parseMigrationFiles(this.scanFiles())
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = await this.loadFiles()
    const migrations: Record<string, Migration> = {}
    for (const file of files) {
      const down = file.down
      migrations[file.name] = {
        up: async (db) => this.#report(await applyUp(db, file, await this.#ledgerFor(db, files), this.#limits, files)),
        down: down
          ? async (db) => this.#report(await applyDown(db, file, down, await this.#ledgerFor(db, files), this.#limits))
          : undefined,
      }
    }
    return migrations
  }

  get #limits(): ApplyLimits {
    return {
      lockTimeoutMs: this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      statementTimeoutMs: this.#props.statementTimeoutMs ?? 0,
    }
  }

  #report(event: ApplyEvent): void {
    this.#props.onApply?.(event)
  }

  #ledgerFor(db: Kysely<unknown>, files: readonly MigrationFile[]): Promise<RunLedger> {
    let run = this.#runs.get(db)
    if (!run) {
      run = (async () => {
        // Under the migration lock, but another session may still hold the ledger table.
        const rows = await withLockTimeout(db, this.#limits.lockTimeoutMs, (c) => ensureAndReadLedger(c), {
          sameConnection: true,
        })
        if (!this.#props.allowDrift) assertNoDrift(findDrift(files, rows))
        // The state every file starts from, and where the ledger lives, read once per run.
        const session = await readSessionBaseline(db)
        return { rows: new Map(rows.map((row) => [row.version, row])), session }
      })()
      this.#runs.set(db, run)
    }
    return run
  }
}
