import {
  ColumnNode,
  ColumnUpdateNode,
  OperationNodeTransformer,
  PrimitiveValueListNode,
  sql,
  ValueListNode,
  ValueNode,
  ValuesNode,
  type Expression,
  type InsertQueryNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely'
import type pg from 'pg'
import pgvector from 'pgvector/pg'

/** Structural, so Neon's pool fits as well as pg's. */
export interface ClientPool {
  readonly totalCount: number
  on(event: 'connect', listener: (client: pg.PoolClient) => void): unknown
}

/**
 * Makes pg read `vector` (and `halfvec`, `sparsevec`) columns as `number[]`, on a client now or on
 * every client a pool opens. A database without the type (not yet migrated) leaves clients unregistered.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: url })
 * registerVectorType(pool)
 * const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new VectorPlugin()] })
 * ```
 */
export function registerVectorType(target: ClientPool): void
export function registerVectorType(target: pg.ClientBase): Promise<void>
export function registerVectorType(target: ClientPool | pg.ClientBase): void | Promise<void> {
  if ('totalCount' in target) {
    // A failed look-up surfaces on the client's next query; an unhandled rejection would end the process.
    target.on('connect', (client) => void registerOnClient(client).catch(() => {}))
    return
  }
  return registerOnClient(target)
}

async function registerOnClient(client: pg.ClientBase): Promise<void> {
  try {
    await pgvector.registerTypes(client)
  } catch (error) {
    if (!/vector type not found/.test(String((error as Error).message))) throw error
  }
}

/**
 * Writes `number[]` into vector columns as pgvector's `[1,2]` (pg alone sends `{1,2}`, which pgvector
 * rejects); on every driver, as it rewrites the plain values of the named columns in INSERT and UPDATE.
 *
 * @example
 * ```ts
 * const db = new Kysely<Database>({ dialect, plugins: [new VectorPlugin()] })
 * await db.insertInto('knowledge_entities').values({ entity_id: 'k1', content: '…', level: 'public', embedding }).execute()
 * ```
 */
export class VectorPlugin implements KyselyPlugin {
  readonly #transformer: VectorValueTransformer

  /** @param columns the vector columns' names (default: the schema's one, `embedding`). */
  constructor(columns: readonly string[] = ['embedding']) {
    this.#transformer = new VectorValueTransformer(new Set(columns))
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node)
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result
  }
}

class VectorValueTransformer extends OperationNodeTransformer {
  readonly #columns: ReadonlySet<string>

  constructor(columns: ReadonlySet<string>) {
    super()
    this.#columns = columns
  }

  protected override transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    const out = super.transformInsertQuery(node)
    const indexes = new Set((out.columns ?? []).flatMap((c, i) => (this.#columns.has(c.column.name) ? [i] : [])))
    if (indexes.size === 0 || !out.values || !ValuesNode.is(out.values)) return out
    // Rows of plain values come as a PrimitiveValueListNode, rows with expressions as a ValueListNode.
    const rows = out.values.values.map((row) =>
      PrimitiveValueListNode.is(row)
        ? PrimitiveValueListNode.create(row.values.map((v, i) => (indexes.has(i) ? toVectorText(v) : v)))
        : ValueListNode.create(row.values.map((v, i) => (indexes.has(i) ? toVectorNode(v) : v))),
    )
    return { ...out, values: ValuesNode.create(rows) }
  }

  protected override transformColumnUpdate(node: ColumnUpdateNode): ColumnUpdateNode {
    const out = super.transformColumnUpdate(node)
    if (!ColumnNode.is(out.column) || !this.#columns.has(out.column.column.name)) return out
    return ColumnUpdateNode.create(out.column, toVectorNode(out.value))
  }
}

function toVectorText(value: unknown): unknown {
  return Array.isArray(value) ? pgvector.toSql(value as number[]) : value
}

function toVectorNode(node: OperationNode): OperationNode {
  return ValueNode.is(node) && Array.isArray(node.value) ? ValueNode.create(toVectorText(node.value)) : node
}

/** The schema's vector column by name, bare or qualified by its table or an alias. */
export type VectorColumnReference = 'embedding' | `${string}.embedding`

/**
 * pgvector's `<=>` (0 = same direction, 2 = opposite). `ORDER BY` it with a `LIMIT` and the
 * planner can use migration 005's HNSW indexes (the partial ones when the query repeats their
 * `WHERE`). Pass `eb.ref('embedding')` instead of a name to have Kysely check the column.
 *
 * @example
 * ```ts
 * const distance = cosineDistance('embedding', queryEmbedding)
 * const nearest = await db.selectFrom('knowledge_entities').select(['entity_id', distance.as('d')])
 *   .where('level', '=', 'public').orderBy(distance).limit(5).execute()
 * ```
 */
export function cosineDistance(
  column: VectorColumnReference | Expression<number[] | null>,
  vector: readonly number[],
): RawBuilder<number> {
  const left = typeof column === 'string' ? sql.ref(column) : column
  return sql<number>`(${left} <=> ${pgvector.toSql([...vector])}::vector)`
}
