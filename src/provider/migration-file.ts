import type { ParsedSql } from './parse-migration-sql.js'

// Unparsed: the boot-time up-to-date check never loads the SQL parser.
export interface MigrationFileHead {
  readonly version: number
  /** The Kysely migration name: the file name without `.sql`. */
  readonly name: string
  /** The file name, e.g. `001_initial_schema.sql`. */
  readonly fileName: string
  readonly path: string
  /** Normalized text: UTF-8, no BOM, LF line endings. */
  readonly text: string
  /** SHA-256 (hex) of `text`. */
  readonly checksum: string
  readonly down?: MigrationDownFileHead
}

export type MigrationDownFileHead = Pick<MigrationFileHead, 'fileName' | 'path' | 'text' | 'checksum'>

/**
 * One validated and parsed `NNN_descriptive_name.sql` file, with its optional `.down.sql`.
 *
 * @example
 * ```ts
 * const files = await readMigrationFolder('migrations')
 * files[0]?.name // '001_initial_schema' (the Kysely migration name)
 * ```
 */
export interface MigrationFile extends MigrationFileHead {
  /** What the ledger records: the file's own INSERT's description, else the name in words. */
  readonly description: string
  readonly sql: ParsedSql
  readonly down?: MigrationDownFile
}

/** A parsed `NNN_descriptive_name.down.sql` file. */
export interface MigrationDownFile extends MigrationDownFileHead {
  readonly sql: ParsedSql
}
