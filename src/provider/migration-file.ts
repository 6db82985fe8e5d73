import type { ParsedSql } from './parse-migration-sql.js'

/**
 * One validated `NNN_descriptive_name.sql` file, with its optional `.down.sql` twin.
 *
 * @example
 * ```ts
 * const files = await readMigrationFolder('migrations')
 * files[0].name // '001_initial_schema' (the Kysely migration name)
 * ```
 */
export interface MigrationFile {
  /** The integer value of NNN. */
  readonly version: number
  /** The Kysely migration name: the file name without `.sql`. */
  readonly name: string
  /** The file name, e.g. `001_initial_schema.sql`. */
  readonly fileName: string
  readonly path: string
  /** What the ledger records: the file's own INSERT's description, else the name in words. */
  readonly description: string
  /** Normalized text: UTF-8, no BOM, LF line endings. */
  readonly text: string
  /** SHA-256 (hex) of `text`. */
  readonly checksum: string
  readonly sql: ParsedSql
  readonly down?: MigrationDownFile
}

/** A `NNN_descriptive_name.down.sql` file. */
export interface MigrationDownFile {
  readonly fileName: string
  readonly path: string
  readonly text: string
  readonly checksum: string
  readonly sql: ParsedSql
}
