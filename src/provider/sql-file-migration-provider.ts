import type { Kysely } from 'kysely'
import type { Migration, MigrationProvider } from 'kysely/migration'

import type { ApplyEvent } from './apply-migration.js'
import type { RunLedger } from './ledger.js'
import type { MigrationFile, MigrationFileHead } from './migration-file.js'
import type { ParsedSql } from './parse-migration-sql.js'
import { planMigrations } from './migration-plan.js'
import { scanMigrationFolder } from './read-migration-folder.js'
import { WUKONG_MIGRATIONS } from './wukong-migrations.js'
import { MigrationError } from '../errors/migration-error.js'
import { statementTimeouts, type MigrationTimeouts, type StatementTimeouts } from './migration-timeouts.js'

/** Options of {@link SqlFileMigrationProvider}. */
export interface SqlFileMigrationProviderProps {
  /** Folder of `NNN_descriptive_name.sql` files, re-read each call. Default: the bundled {@link WUKONG_MIGRATIONS}. */
  readonly migrationFolder?: string | undefined
  /** Migrate even when applied files were edited or are gone. Default false: migrating refuses, naming them. */
  readonly allowDrift?: boolean | undefined
  /** `lock_timeout` and `statement_timeout` for each statement of a file (see {@link MigrationTimeouts}). */
  readonly timeouts?: Pick<MigrationTimeouts, 'lockMs' | 'statementMs'> | undefined
  /** A migration set's own schema for its ledgers (see MigrationRunnerOptions.ledgerSchema). */
  readonly ledgerSchema?: string | undefined
  /** Called after each file is applied, adopted, healed or reverted. */
  readonly onApply?: ((event: ApplyEvent) => void) | undefined
}

/**
 * A Kysely `MigrationProvider` of `NNN_descriptive_name.sql` files: each file's SQL commits with its
 * `schema_versions` row; versions the old runner applied are adopted, not re-run.
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
  readonly #timeouts: StatementTimeouts
  // Keyed by `db`: the Migrator hands every migration of one run the same one, under its lock.
  readonly #runs = new WeakMap<object, Promise<RunLedger>>()
  // Parsed SQL by file and checksum: what verify() parsed is what migrate() applies.
  readonly #parsed = new Map<string, Promise<ParsedSql>>()

  constructor(props: SqlFileMigrationProviderProps = {}) {
    const { migrationFolder, allowDrift, timeouts, ledgerSchema, onApply } = props
    this.#props = Object.freeze({ migrationFolder, allowDrift, timeouts, ledgerSchema, onApply })
    this.#timeouts = statementTimeouts(props.timeouts)
  }

  get migrationFolder(): string | undefined {
    return this.#props.migrationFolder
  }

  // Without the SQL parser: what the boot-time up-to-date check needs.
  scanFiles(): readonly MigrationFileHead[] {
    const folder = this.#props.migrationFolder
    return folder === undefined ? WUKONG_MIGRATIONS : scanMigrationFolder(folder)
  }

  async loadFiles(): Promise<readonly MigrationFile[]> {
    return this.parseFiles(this.scanFiles())
  }

  // The bundled migrations were parsed at build time.
  async parseFiles(heads: readonly MigrationFileHead[]): Promise<readonly MigrationFile[]> {
    if (this.#props.migrationFolder === undefined) return WUKONG_MIGRATIONS.filter((f) => heads.includes(f))
    const { parseMigrationFiles } = await import('./parse-migration-files.js')
    return parseMigrationFiles(heads, { memo: this.#parsed })
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = await this.loadFiles()
    const migrations: Record<string, Migration> = {}
    for (const file of files) {
      const down = file.down
      migrations[file.name] = {
        up: async (db) => {
          const { applyUp } = await import('./apply-migration.js')
          this.#report(await applyUp(db, file, await this.#ledgerFor(db, files), this.#timeouts, files))
        },
        // Always defined: Kysely's Migrator skips a missing down() and still forgets the file.
        down: async (db) => {
          const message = `cannot revert: no .down.sql file (write ${file.name}.down.sql)`
          if (!down) throw new MigrationError('NO_DOWN_FILE', message, { file: file.fileName })
          const { applyDown } = await import('./apply-migration.js')
          this.#report(await applyDown(db, file, await this.#ledgerFor(db, files), this.#timeouts))
        },
      }
    }
    return migrations
  }

  // A plain call: with `onApply?.(await apply…)` an absent callback would skip the apply itself.
  #report(event: ApplyEvent): void {
    this.#props.onApply?.(event)
  }

  #ledgerFor(db: Kysely<unknown>, files: readonly MigrationFile[]): Promise<RunLedger> {
    let run = this.#runs.get(db)
    if (!run) {
      run = (async () => {
        // Loaded when Kysely runs a migration: listing and checking files needs no driver code.
        const [{ readForRun }, { runLedger }] = await Promise.all([
          import('./run-migrations.js'),
          import('./ledger.js'),
        ])
        const { ledgerSchema, allowDrift } = this.#props
        const { snapshot, ensure } = await readForRun(db, ledgerSchema, this.#timeouts.lockMs)
        const { refusal } = planMigrations(files, snapshot, { allowDrift })
        if (refusal) throw refusal
        await ensure()
        return runLedger(snapshot, false) // Kysely's Migrator writes its own rows
      })()
      this.#runs.set(db, run)
    }
    return run
  }
}
