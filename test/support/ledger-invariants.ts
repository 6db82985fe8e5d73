import { sql, type Kysely } from 'kysely'

import { snapshotDatabase } from './db-snapshot.js'

/** One migration of a test folder: its version, Kysely name, and the relation it creates. */
export interface ExpectedFile {
  readonly version: number
  readonly name: string
  readonly creates: string
}

/** What a database holds of a test folder's migrations. */
export interface LedgerState {
  readonly schemaVersions: readonly number[]
  readonly kysely: readonly string[]
  /** Versions whose relation exists in the catalog. */
  readonly inCatalog: readonly number[]
  /** side_effects rows (one per run of a file's SQL), sorted; [] when the table is absent. */
  readonly sideEffects: readonly number[]
}

/**
 * Reads both ledgers, the catalog and the side-effect table (each read tolerates its table being
 * absent: a run may have been killed before creating it).
 */
export async function readLedgerState(db: Kysely<unknown>, files: readonly ExpectedFile[]): Promise<LedgerState> {
  const exists = async (name: string) =>
    (await sql<{ e: boolean }>`select to_regclass(${name}) is not null as e`.execute(db)).rows[0]!.e
  const schemaVersions = (await exists('schema_versions'))
    ? (await sql<{ v: number }>`select version as v from schema_versions order by 1`.execute(db)).rows.map((r) => r.v)
    : []
  const kysely = (await exists('kysely_migration'))
    ? (await sql<{ n: string }>`select name as n from kysely_migration order by 1`.execute(db)).rows.map((r) => r.n)
    : []
  const sideEffects = (await exists('side_effects'))
    ? (await sql<{ v: number }>`select version as v from side_effects order by 1`.execute(db)).rows.map((r) => r.v)
    : []
  const { rows } = await sql<{ r: string }>`
    select relname as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and relname = any(${sql.val(files.map((f) => f.creates))}::text[])`.execute(db)
  const present = new Set(rows.map((r) => r.r))
  return {
    schemaVersions,
    kysely,
    inCatalog: files.filter((f) => present.has(f.creates)).map((f) => f.version),
    sideEffects,
  }
}

/**
 * The crash invariants, as a list of violations (empty when they hold):
 * - schema_versions ⇔ catalog: a file's relation exists iff its version is recorded;
 * - each recorded file's SQL ran exactly once (its side_effects row), unrecorded ones never;
 * - kysely_migration ⊆ schema_versions (it may lag by the one file whose commit landed just
 *   before the process died, never lead);
 * - with `converged`, kysely_migration = schema_versions = every file.
 */
export function invariantViolations(
  state: LedgerState,
  files: readonly ExpectedFile[],
  options: { readonly converged?: boolean } = {},
): string[] {
  const problems: string[] = []
  const recorded = new Set(state.schemaVersions)
  const catalog = new Set(state.inCatalog)
  for (const f of files) {
    if (recorded.has(f.version) !== catalog.has(f.version)) {
      problems.push(
        `version ${f.version}: recorded=${recorded.has(f.version)} but ${f.creates} exists=${catalog.has(f.version)}`,
      )
    }
    const runs = state.sideEffects.filter((v) => v === f.version).length
    if (runs !== (recorded.has(f.version) ? 1 : 0))
      problems.push(`version ${f.version}: its SQL ran ${runs} times (recorded=${recorded.has(f.version)})`)
  }
  const recordedNames = new Set(files.filter((f) => recorded.has(f.version)).map((f) => f.name))
  for (const name of state.kysely)
    if (!recordedNames.has(name)) problems.push(`kysely_migration has ${name}, schema_versions does not`)
  const lag = recordedNames.size - state.kysely.filter((n) => recordedNames.has(n)).length
  if (lag > 1) problems.push(`kysely_migration lags schema_versions by ${lag} files (at most 1 is possible)`)
  if (options.converged) {
    if (state.schemaVersions.length !== files.length)
      problems.push(`not converged: schema_versions = [${state.schemaVersions.join(',')}]`)
    if (state.kysely.length !== files.length)
      problems.push(`not converged: kysely_migration = [${state.kysely.join(',')}]`)
  }
  return problems
}

/** Advisory locks held (or awaited) in this database, by any session. */
export async function advisoryLocks(db: Kysely<unknown>): Promise<{ pid: number; granted: boolean; objid: string }[]> {
  const { rows } = await sql<{ pid: number; granted: boolean; objid: string }>`
    select pid, granted, objid::text from pg_locks
    where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(
    db,
  )
  return rows
}

/**
 * Waits until no backend of this database has the given application_name (a SIGKILLed
 * client's backend lives on until it next talks to the socket, e.g. after its pg_sleep).
 * Returns how long it took; throws after `timeoutMs`.
 */
export async function waitForBackendsGone(
  db: Kysely<unknown>,
  applicationName: string,
  timeoutMs = 30_000,
): Promise<number> {
  const started = Date.now()
  for (;;) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = ${applicationName}`.execute(db)
    if (rows[0]!.n === 0) return Date.now() - started
    if (Date.now() - started > timeoutMs)
      throw new Error(`backends of ${applicationName} still alive after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * {@link snapshotDatabase} without what legitimately differs between identical runs: the
 * ledgers' timestamps and durations. Catalog lines are kept as they are; the ledgers are
 * listed by their stable columns; side_effects by version.
 */
export async function stableSnapshot(db: Kysely<unknown>): Promise<string> {
  const full = await snapshotDatabase(db)
  // The ledgers and side_effects hold timestamps: they are compared below by their stable columns.
  const volatile = /^rows [^ ]+\.(schema_versions|kysely_migration|kysely_migration_lock|side_effects): /
  const catalog = full.split('\n').filter((line) => !volatile.test(line))
  const lines = [...catalog]
  const exists = async (name: string) =>
    (await sql<{ e: boolean }>`select to_regclass(${name}) is not null as e`.execute(db)).rows[0]!.e
  if (await exists('schema_versions')) {
    const { rows } = await sql<{ r: string }>`
      select format('%s|%s|%s|%s|%s|adopted=%s', version, description, checksum, file_name, atomic, adopted_at is not null) as r
      from schema_versions order by version`.execute(db)
    lines.push(`schema_versions: ${rows.map((r) => r.r).join(' ; ')}`)
  }
  if (await exists('kysely_migration')) {
    const { rows } = await sql<{ r: string }>`select name as r from kysely_migration order by name`.execute(db)
    lines.push(`kysely_migration: ${rows.map((r) => r.r).join(' ; ')}`)
  }
  if (await exists('kysely_migration_lock')) {
    const { rows } = await sql<{
      r: string
    }>`select format('%s|%s', id, is_locked) as r from kysely_migration_lock order by id`.execute(db)
    lines.push(`kysely_migration_lock: ${rows.map((r) => r.r).join(' ; ')}`)
  }
  if (await exists('side_effects')) {
    const { rows } = await sql<{ r: string }>`select version::text as r from side_effects order by version`.execute(db)
    lines.push(`side_effects: ${rows.map((r) => r.r).join(',')}`)
  }
  return lines.join('\n')
}
