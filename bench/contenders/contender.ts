import type { MigrationFolders } from '../lib/migration-sets.js'

/** A database a contender works on. */
export interface Target {
  /** Connection URL (possibly through the latency proxy). */
  readonly url: string
  /** The database's name (postgrator wants it). */
  readonly database: string
}

/** An open connection on which a contender runs its up-to-date check repeatedly. */
export interface CheckSession {
  /** One up-to-date check; throws if it found anything to apply. */
  check(): Promise<void>
  close(): Promise<void>
}

/** Which tool a contender is. */
export type ContenderId = 'ours' | 'kysely' | 'postgrator' | 'dbmate' | 'psql' | 'one-query' | 'query-per-file'

/**
 * One migration tool under test. `apply` and `check` open their own connection (or process)
 * and close it, as a cold start does; `openSession` keeps one connection open across checks.
 */
export interface Contender {
  readonly id: ContenderId
  readonly label: string
  /** `spawned`: a separate program, paying process start and connection on every call. */
  readonly runs: 'in-process' | 'spawned'
  /** Untimed set-up for a folder (e.g. loading SQL that the tool keeps in memory). */
  prepare?(folders: MigrationFolders): Promise<void>
  /** Applies every file of `folders` to an empty database; throws unless all applied. */
  apply(target: Target, folders: MigrationFolders): Promise<void>
  /** The up-to-date check on a new connection; absent when the tool has none. */
  check?(target: Target, folders: MigrationFolders): Promise<void>
  /** The up-to-date check on a connection kept open (in-process tools only). */
  openSession?(target: Target, folders: MigrationFolders): Promise<CheckSession>
}

/**
 * Throws when a check or apply did not do what the benchmark expects of it, so that a
 * broken contender fails the run instead of producing a fast, meaningless figure.
 *
 * @example
 * ```ts
 * expectCount('ours apply', results.length, 300)
 * ```
 */
export function expectCount(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`)
}
