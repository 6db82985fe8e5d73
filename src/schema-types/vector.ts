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

/** A pg pool, or anything pool-like that emits `connect` with each new client (pg, Neon). */
export interface ClientPool {
  readonly totalCount: number
  on(event: 'connect', listener: (client: pg.PoolClient) => void): unknown
}

/**
 * Makes pg parse pgvector's `vector` (and `halfvec`, `sparsevec`) columns into `number[]`
 * instead of the text `'[0.1,0.2]'`, with pgvector's own parser.
 *
 * - Given a client: registers on it now (the type's OID is per database, so it is looked up).
 * - Given a pool: registers on every client the pool opens, before that client's first query
 *   runs (pg runs a client's queries in order, and the look-up is queued first).
 *
 * A database without the `vector` type (before migration 001) is not an error: that client
 * stays unregistered, so open the pool you read vectors with after migrating.
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
    // A failed look-up surfaces on the caller's own next query on that client; an
    // unhandled rejection here would end the process.
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
 * A Kysely plugin that writes `number[]` into vector columns: pg alone sends an array as a
 * PostgreSQL array literal (`{1,2}`), which pgvector rejects; this plugin sends pgvector's text
 * form (`[1,2]`) instead. It rewrites only the plain values given for the named columns in
 * INSERT (including `ON CONFLICT … DO UPDATE SET`) and UPDATE; expressions pass untouched.
 * Works on every driver (pg, PGlite, @vercel/postgres-kysely), as it acts on the query, not
 * the connection.
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
    // Kysely sends rows of plain values as a PrimitiveValueListNode and rows with
    // expressions or defaults as a ValueListNode of nodes.
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
 * Cosine distance (pgvector's `<=>`, 0 = same direction, 2 = opposite) between a vector column
 * and a query vector, for ordering nearest neighbours; `ORDER BY` it with a `LIMIT` and the
 * planner can use the HNSW `vector_cosine_ops` indexes of migration 005 (the partial ones when
 * the query also says `level = 'public' AND is_indexed AND NOT is_to_remove`, or 'organization').
 *
 * The column is a name (`'embedding'`, `'k.embedding'`) or, to have Kysely check it against the
 * tables in scope, a reference: `(eb) => cosineDistance(eb.ref('embedding'), query)`, which
 * accepts only columns whose type is a vector.
 *
 * @example
 * ```ts
 * const nearest = await db
 *   .selectFrom('knowledge_entities')
 *   .select(['entity_id', cosineDistance('embedding', queryEmbedding).as('distance')])
 *   .where('level', '=', 'public')
 *   .where('is_indexed', '=', true)
 *   .where('is_to_remove', '=', false)
 *   .orderBy(cosineDistance('embedding', queryEmbedding))
 *   .limit(5)
 *   .execute()
 * ```
 */
export function cosineDistance(
  column: VectorColumnReference | Expression<number[] | null>,
  vector: readonly number[],
): RawBuilder<number> {
  const left = typeof column === 'string' ? sql.ref(column) : column
  return sql<number>`(${left} <=> ${pgvector.toSql([...vector])}::vector)`
}
