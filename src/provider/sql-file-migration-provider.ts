import { fileURLToPath } from 'node:url'

import type { Kysely } from 'kysely'
import type { Migration, MigrationProvider } from 'kysely/migration'

import { applyDown, applyUp, type ApplyEvent, type ApplyLimits, type RunLedger } from './apply-migration.js'
import { assertNoDrift, findDrift } from './check-drift.js'
import { ensureAndReadLedger } from './ledger.js'
import type { MigrationFile, MigrationFileHead } from './migration-file.js'
import { parseMigrationFiles, scanMigrationFolder } from './read-migration-folder.js'

/** The package's own `migrations/` folder: the Wukong schema. */
export const DEFAULT_MIGRATION_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** The default `lock_timeout` for each file's statements: fail fast rather than hang a deploy. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000

/** Options of {@link SqlFileMigrationProvider}. */
export interface SqlFileMigrationProviderProps {
  /** Folder of `NNN_descriptive_name.sql` files. Default: the package's `migrations/`. */
  readonly migrationFolder?: string
  /**
   * Migrate even when applied files were edited (checksum drift) or are gone from the folder.
   * Default false: migrating refuses and names the files.
   */
  readonly allowDrift?: boolean
  /**
   * How long a file's statement may wait for a table lock another session holds before the
   * file fails (PostgreSQL's `lock_timeout`), so a busy table fails a deploy fast instead of
   * hanging it (and queueing every query behind it). Default 10 000 ms; 0 waits forever.
   */
  readonly lockTimeoutMs?: number
  /** PostgreSQL's `statement_timeout` for each statement of a file. Default 0: no limit. */
  readonly statementTimeoutMs?: number
  /** Called after each file is applied, adopted, healed or reverted. */
  readonly onApply?: (event: ApplyEvent) => void
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

  /** The folder this provider reads. */
  get migrationFolder(): string {
    return this.#props.migrationFolder ?? DEFAULT_MIGRATION_FOLDER
  }

  /**
   * Lists the folder and checks names, versions and encoding, without parsing SQL: what the
   * up-to-date check needs. Every call sees added, removed and edited files; only files whose
   * size and times prove them unchanged since they were last read are not read again.
   */
  scanFiles(): readonly MigrationFileHead[] {
    return scanMigrationFolder(this.migrationFolder)
  }

  /**
   * Lists, validates and parses every file (as fresh as {@link scanFiles}; a text parsed
   * before is not parsed again). Throws a `MigrationError` naming the file on the first problem.
   */
  async loadFiles(): Promise<readonly MigrationFile[]> {
    return parseMigrationFiles(this.scanFiles())
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = await this.loadFiles()
    const migrations: Record<string, Migration> = {}
    for (const file of files) {
      const down = file.down
      migrations[file.name] = {
        up: async (db) => this.#report(await applyUp(db, file, await this.#ledgerFor(db, files), this.#limits)),
        down: down
          ? async (db) => this.#report(await applyDown(db, file, down, await this.#ledgerFor(db, files), this.#limits))
          : undefined,
      }
    }
    return migrations
  }

  get #limits(): ApplyLimits {
    return { lockTimeoutMs: this.#props.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, statementTimeoutMs: this.#props.statementTimeoutMs ?? 0 }
  }

  #report(event: ApplyEvent): void {
    this.#props.onApply?.(event)
  }

  #ledgerFor(db: Kysely<unknown>, files: readonly MigrationFile[]): Promise<RunLedger> {
    let run = this.#runs.get(db)
    if (!run) {
      run = (async () => {
        const rows = await ensureAndReadLedger(db)
        if (!this.#props.allowDrift) assertNoDrift(findDrift(files, rows))
        return new Map(rows.map((row) => [row.version, row]))
      })()
      this.#runs.set(db, run)
    }
    return run
  }
}
