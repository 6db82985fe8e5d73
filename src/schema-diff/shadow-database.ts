import { quoteIdent } from '../provider/sql-text.js'

import { CompiledQuery, sql, type Kysely } from 'kysely'

import { createDatabase } from '../connect/index.js'
import { cloneName, currentOwner, isOwnerGone, parseOwner } from '../connect/owner-marker.js'
import { MigrationError } from '../errors/migration-error.js'

/** A scratch database to build the files in: created next to the live one, or given empty (`shadowUrl`) and emptied. */
export interface ShadowDatabase {
  readonly url: string
  readonly name: string
  /** False for a given URL, which `drop()` only empties. */
  readonly created: boolean
  reset(): Promise<void>
  /** Idempotent, so an interrupt handler and the normal path may both call it. */
  drop(): Promise<void>
}

export interface ShadowDatabaseOptions {
  readonly serverUrl?: string
  readonly shadowUrl?: string
  /** Default `wk_shadow`. */
  readonly prefix?: string
}

// Shadows not yet dropped, so that an interrupted command can drop them before it exits.
const open = new Set<ShadowDatabase>()

export async function openShadowDatabase(options: ShadowDatabaseOptions): Promise<ShadowDatabase> {
  if (options.shadowUrl) return takeGivenShadow(options.shadowUrl)
  if (!options.serverUrl) {
    throw new MigrationError(
      'SHADOW_FAILED',
      'comparing schemas needs a database server to build the expected schema on: ' +
        'connect with a URL, or give an empty database as the shadow (--shadow-url)',
    )
  }
  const serverUrl = options.serverUrl
  // The name says who made it, so the next run drops what a killed run left behind.
  const name = cloneName(currentOwner(), `${options.prefix ?? 'wk_shadow'}_`)
  await onServer(serverUrl, (db) => dropLeftoverDatabases(sqlOn(db), ['wk_shadow_', 'wk_roundtrip_'])).catch(noop)
  const drop = `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`
  const create = `CREATE DATABASE ${quoteIdent(name)}`
  // Registered before it exists: an interrupt during CREATE DATABASE drops it once that settled.
  const creating = run(serverUrl, create)
  const shadow = register(
    { url: withDatabase(serverUrl, name), name, created: true },
    () => run(serverUrl, drop, create),
    () => creating.catch(() => {}).then(() => run(serverUrl, drop)),
  )
  await creating.catch((error: unknown) => {
    open.delete(shadow)
    throw new MigrationError(
      'SHADOW_FAILED',
      `cannot create the shadow database ${name} on the live database's server (${(error as Error).message}); ` +
        'give an empty database to use instead with --shadow-url',
      { cause: error },
    )
  })
  return shadow
}

/** A pg client fits, and so does a Kysely instance through `sqlOn`. */
interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ readonly rows: readonly Record<string, any>[] }>
}

// `_` is a LIKE wildcard: escaped, so a prefix matches only names that start with it.
export async function databasesNamed(client: SqlClient, prefixes: readonly string[]): Promise<string[]> {
  const like = prefixes.map((prefix) => `${prefix.replace(/_/g, '\\_')}%`)
  const { rows } = await client.query('select datname from pg_database where datname like any($1::text[])', [like])
  return rows.map((r) => r['datname'] as string)
}

// Named by a process that is gone (its owner marker); a failed drop (another sweep, a rename) waits for the next sweep.
export async function dropLeftoverDatabases(client: SqlClient, prefixes: readonly string[]): Promise<string[]> {
  const dropped: string[] = []
  for (const name of await databasesNamed(client, prefixes)) {
    const owner = parseOwner(name)
    if (owner === undefined || !isOwnerGone(owner)) continue
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).then(() => dropped.push(name), noop)
  }
  return dropped
}

const noop = (): void => {}

export async function dropOpenShadowDatabases(): Promise<void> {
  await Promise.allSettled([...open].map((s) => s.drop()))
}

async function takeGivenShadow(url: string): Promise<ShadowDatabase> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1) || '(default database)')
  const { rows } = await onServer(url, (db) =>
    sql.raw<{ what: string }>(`select what from (${USER_OBJECTS_SQL}) o limit 10`).execute(db),
  )
  if (rows.length) {
    throw new MigrationError(
      'SHADOW_NOT_EMPTY',
      `the shadow database ${name} is not empty (it has ${rows.map((r) => r.what).join(', ')}); ` +
        'give an empty database: the migration files are applied to it, and everything in it is dropped afterwards',
    )
  }
  const empty = () => run(url, EMPTY_DATABASE_SQL)
  return register({ url, name, created: false }, empty, empty)
}

function register(
  props: Pick<ShadowDatabase, 'url' | 'name' | 'created'>,
  reset: () => Promise<void>,
  remove: () => Promise<void>,
): ShadowDatabase {
  let dropped: Promise<void> | undefined
  const shadow: ShadowDatabase = Object.freeze({
    ...props,
    reset,
    drop: () => (dropped ??= remove().finally(() => open.delete(shadow))),
  })
  open.add(shadow)
  return shadow
}

// What a given shadow must not hold, each with the statement that drops it: extensions, other schemas, then public's.
const USER_OBJECTS_SQL = `
select 'extension ' || extname as what, format('drop extension if exists %I cascade', extname) as stmt
from pg_extension where extname <> 'plpgsql'
union all
select 'schema ' || nspname, format('drop schema if exists %I cascade', nspname)
from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'public') and nspname !~ '^pg_'
union all
select 'relation ' || c.relname, format('drop %s if exists public.%I cascade',
         case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                        when 'f' then 'foreign table' else 'table' end, c.relname)
from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
union all
select 'function ' || p.proname,
       format('drop routine if exists public.%I(%s) cascade', p.proname, pg_get_function_identity_arguments(p.oid))
from pg_proc p where p.pronamespace = 'public'::regnamespace
union all
select 'type ' || t.typname, format('drop type if exists public.%I cascade', t.typname)
from pg_type t
where t.typnamespace = 'public'::regnamespace and t.typtype in ('e', 'd', 'c', 'r', 'm')
  and (t.typrelid = 0 or (select relkind from pg_class where oid = t.typrelid) = 'c')`

// All statements are read before any runs: a name read after a CASCADE dropped its object would be a bare oid.
const EMPTY_DATABASE_SQL = `
do $$
declare s text;
begin
  foreach s in array (select coalesce(array_agg(stmt), '{}') from (${USER_OBJECTS_SQL}) o) loop
    execute s;
  end loop;
end
$$`

/** A one-connection pool per step, closed at once, so no connection outlives the shadow. */
export async function onServer<T>(url: string, body: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
  const db = await createDatabase({ url, driver: 'pg', max: 1, applicationName: 'wukong-migrate shadow' })
  try {
    return await body(db as Kysely<unknown>)
  } finally {
    await db.destroy()
  }
}

function sqlOn(db: Kysely<unknown>): SqlClient {
  return { query: (text, params = []) => db.executeQuery(CompiledQuery.raw(text, params)) }
}

function run(url: string, ...statements: string[]): Promise<void> {
  return onServer(url, async (db) => {
    for (const statement of statements) await sql.raw(statement).execute(db)
  })
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(database)}`
  return u.toString()
}
