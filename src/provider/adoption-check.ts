import { sql, type Kysely } from 'kysely'

import { loadSqlParser } from './sql-parser.js'
import { literal, quoteIdent } from './sql-text.js'
import { MigrationError } from '../errors/migration-error.js'
import type { MigrationFile } from './migration-file.js'

export interface CreatedObject {
  readonly kind: 'table' | 'column' | 'index'
  // As written in the file: `sessions`, `sessions.goal`, `app.idx_steps_status`.
  readonly name: string
  readonly table?: string
}

/**
 * The old runner's ledger row claims a version whose file creates objects the database lacks (a reused
 * number, or objects dropped by hand), so the file is not adopted as applied.
 *
 * @example
 * ```ts
 * if (error instanceof AdoptionMismatchError) console.error(error.missing.map((m) => m.name))
 * ```
 */
export class AdoptionMismatchError extends MigrationError {
  override readonly name: string = 'AdoptionMismatchError'
  readonly version: number
  /** What the file creates that the database lacks. */
  readonly missing: readonly CreatedObject[]

  constructor(file: MigrationFile, description: string, missing: readonly CreatedObject[]) {
    const list = missing.map((m) => `${m.kind} ${m.name}`).join(', ')
    super(
      'ADOPTION_MISMATCH',
      `${file.fileName}: schema_versions records version ${file.version} ("${description}", ` +
        `written without a checksum by another runner), but the database lacks what this file creates: ${list}. ` +
        'Not counted as applied: the version may have been used for another change',
      { file: file.fileName },
    )
    this.version = file.version
    this.missing = Object.freeze([...missing])
  }
}

// What a later file drops or renames is not expected any more.
export async function expectedObjects(
  file: MigrationFile,
  later: readonly MigrationFile[],
): Promise<readonly CreatedObject[]> {
  const { parseSync } = await loadSqlParser()
  const tables = new Map<string, Set<string>>() // table → its columns created by `file`
  const created = new Set<string>() // tables created by `file` (not just given columns)
  const indexes = new Map<string, string>() // index → its table
  const indexColumns = new Map<string, Set<string>>() // index → the columns it names
  const effects = (text: string, creates: boolean): void => {
    for (const raw of (parseSync(text) as { stmts?: { stmt: Record<string, Node> }[] }).stmts ?? []) {
      const [kind, node] = Object.entries(raw.stmt)[0] as [string, Node]
      if (kind === 'CreateStmt' && creates) {
        const table = relationName(node['relation'])
        created.add(table)
        const columns = tables.get(table) ?? new Set<string>()
        for (const element of (node['tableElts'] as Node[] | undefined) ?? []) {
          const column = (element['ColumnDef'] as Node | undefined)?.['colname']
          if (typeof column === 'string') columns.add(column)
        }
        tables.set(table, columns)
      } else if (kind === 'IndexStmt' && creates && typeof node['idxname'] === 'string') {
        const table = relationName(node['relation'])
        const index = qualified(schemaOf(table), node['idxname'])
        indexes.set(index, table)
        const params = (node['indexParams'] as { IndexElem?: Node }[] | undefined) ?? []
        const named = params.map((p) => p.IndexElem?.['name']).filter((n): n is string => typeof n === 'string')
        indexColumns.set(index, new Set(named))
      } else if (kind === 'AlterTableStmt') {
        const table = relationName(node['relation'])
        for (const cmd of (node['cmds'] as { AlterTableCmd?: Node }[] | undefined) ?? []) {
          const c = cmd.AlterTableCmd ?? {}
          const column = (c['def'] as { ColumnDef?: Node } | undefined)?.ColumnDef?.['colname']
          if (c['subtype'] === 'AT_AddColumn' && creates && typeof column === 'string') {
            tables.set(table, (tables.get(table) ?? new Set<string>()).add(column))
          } else if (c['subtype'] === 'AT_DropColumn' && typeof c['name'] === 'string') {
            tables.get(table)?.delete(c['name'])
            // PostgreSQL drops the indexes on a dropped column with it.
            for (const [index, on] of indexes) {
              if (on === table && indexColumns.get(index)?.has(c['name'])) indexes.delete(index)
            }
          }
        }
      } else if (kind === 'DropStmt') {
        type NameList = { List?: { items?: { String?: { sval?: string } }[] } }
        const lists = (node['objects'] as NameList[] | undefined) ?? []
        const names = lists.map((o) => (o.List?.items ?? []).map((i) => i.String?.sval ?? ''))
        for (const parts of names) {
          const name = qualified(parts.length > 1 ? parts.at(-2)! : '', parts.at(-1)!)
          if (node['removeType'] === 'OBJECT_TABLE') {
            tables.delete(name)
            created.delete(name)
            for (const [index, table] of indexes) if (table === name) indexes.delete(index)
          } else if (node['removeType'] === 'OBJECT_INDEX') {
            indexes.delete(name)
          }
        }
      } else if (kind === 'RenameStmt') {
        const relation = relationName(node['relation'])
        const to = String(node['newname'])
        if (node['renameType'] === 'OBJECT_TABLE' && tables.has(relation)) {
          const renamed = qualified(schemaOf(relation), to)
          tables.set(renamed, tables.get(relation)!)
          tables.delete(relation)
          if (created.delete(relation)) created.add(renamed)
          for (const [index, table] of indexes) if (table === relation) indexes.set(index, renamed)
        } else if (node['renameType'] === 'OBJECT_INDEX' && indexes.has(relation)) {
          const renamed = qualified(schemaOf(relation), to)
          indexes.set(renamed, indexes.get(relation)!)
          indexColumns.set(renamed, indexColumns.get(relation) ?? new Set())
          indexes.delete(relation)
        } else if (node['renameType'] === 'OBJECT_COLUMN') {
          const from = String(node['subname'])
          if (tables.get(relation)?.delete(from)) tables.get(relation)!.add(to)
          for (const [index, on] of indexes) {
            const columns = indexColumns.get(index)
            if (on === relation && columns?.delete(from)) columns.add(to)
          }
        }
      }
    }
  }
  effects(file.text, true)
  // Later files only take away: what they create is theirs to check.
  for (const next of later) effects(next.text, false)
  return Object.freeze([
    ...[...created].map((name): CreatedObject => ({ kind: 'table', name })),
    ...[...tables].flatMap(([table, columns]) =>
      [...columns].map((c): CreatedObject => ({ kind: 'column', name: `${table}.${c}`, table })),
    ),
    ...[...indexes].map(([name, table]): CreatedObject => ({ kind: 'index', name, table })),
  ])
}

// A reused version number must not count as applied: one catalog query checks what the file creates.
export async function assertAdoptable(
  db: Kysely<any>,
  file: MigrationFile,
  later: readonly MigrationFile[],
  description: string,
): Promise<void> {
  const objects = await expectedObjects(file, later)
  if (!objects.length) return
  const values = objects
    .map((o, i) => {
      const [relation, column] = o.kind === 'column' ? splitColumn(o.name) : [o.name, null]
      const col = column === null ? 'NULL' : literal(column)
      return `(${i}, ${literal(o.kind)}, ${literal(quoteQualified(relation))}, ${col})`
    })
    .join(', ')
  const { rows } = await sql
    .raw<{ i: number }>(`
    select i from (values ${values}) as v(i, kind, rel, col)
    where case kind
      when 'column' then not exists (select 1 from pg_attribute a
                                     where a.attrelid = to_regclass(rel) and a.attname = col
                                       and a.attnum > 0 and not a.attisdropped)
      when 'index' then not exists (select 1 from pg_class c where c.oid = to_regclass(rel) and c.relkind in ('i', 'I'))
      else not exists (select 1 from pg_class c where c.oid = to_regclass(rel) and c.relkind in ('r', 'p', 'f'))
    end
    order by i`)
    .execute(db)
  const missing = rows.map((r) => objects[Number(r.i)]!)
  // A missing table is reported once, not again with each of its columns and indexes.
  const tables = new Set(missing.filter((m) => m.kind === 'table').map((m) => m.name))
  const reported = missing.filter((m) => m.kind === 'table' || !tables.has(m.table ?? ''))
  if (reported.length) throw new AdoptionMismatchError(file, description, reported)
}

type Node = Record<string, unknown>

function relationName(relation: unknown): string {
  const r = relation as { schemaname?: string; relname?: string } | undefined
  return qualified(r?.schemaname ?? '', r?.relname ?? '')
}

function qualified(schema: string, name: string): string {
  return schema ? `${schema}.${name}` : name
}

function schemaOf(name: string): string {
  const dot = name.indexOf('.')
  return dot === -1 ? '' : name.slice(0, dot)
}

function splitColumn(name: string): [string, string] {
  const dot = name.lastIndexOf('.')
  return [name.slice(0, dot), name.slice(dot + 1)]
}

function quoteQualified(name: string): string {
  return name.split('.').map(quoteIdent).join('.')
}
