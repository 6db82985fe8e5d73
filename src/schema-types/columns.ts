import type { ColumnType } from 'kysely'

// Column shapes shared by the table interfaces in tables.ts. Most defaulted columns of the
// deployed schema are nullable (the spec never says NOT NULL for them), so the select type
// keeps `null` even where a default fills the column on insert.

/**
 * Marks a column that has a DEFAULT in the database. Kysely's types cannot tell "optional on
 * insert because nullable" from "optional because defaulted"; this brand can, so that
 * `DATABASE_COLUMNS` (checked against the live catalog) is checked against the types too.
 *
 * @example
 * ```ts
 * type Counter = ColumnType<number | null, number | null | undefined, number | null> & HasDefault
 * ```
 */
export interface HasDefault {
  readonly __hasDefault__?: true
}

/**
 * A NOT NULL `timestamptz` without a default: pg reads a `Date`; a `Date` or an ISO string
 * writes.
 *
 * @example
 * ```ts
 * interface Row { due_at: Timestamp }
 * ```
 */
export type Timestamp = ColumnType<Date, Date | string, Date | string>

/**
 * A nullable `timestamptz` without a default.
 *
 * @example
 * ```ts
 * await db.updateTable('steps').set({ completed_at: new Date() }).where('id', '=', 1).execute()
 * ```
 */
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

/**
 * A `timestamptz DEFAULT now()` (nullable, as deployed): optional on insert.
 *
 * @example
 * ```ts
 * const { created_at } = await db.selectFrom('sessions').select('created_at').executeTakeFirstOrThrow()
 * // created_at: Date | null
 * ```
 */
export type DefaultTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null> &
  HasDefault

/**
 * A nullable column with a default: optional on insert.
 *
 * @example
 * ```ts
 * interface Row { status: Defaulted<string> } // varchar(50) DEFAULT 'active'
 * ```
 */
export type Defaulted<T> = ColumnType<T | null, T | null | undefined, T | null> & HasDefault

/**
 * A nullable column without a default: optional on insert (it is then NULL).
 *
 * @example
 * ```ts
 * interface Row { reasoning: Nullable<string> }
 * ```
 */
export type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>

/**
 * A `serial` primary key: generated, so optional on insert (as Kysely's `Generated<number>`);
 * an explicit id is still accepted, as PostgreSQL accepts it (restores, fixtures).
 *
 * @example
 * ```ts
 * const { id } = await db.insertInto('steps').values(step).returning('id').executeTakeFirstOrThrow()
 * ```
 */
export type Serial = ColumnType<number, number | undefined, number> & HasDefault

/**
 * `vector(n)` (pgvector), nullable: reads as `number[]` once the type parser is registered on
 * the driver (`registerVectorType`), writes as `number[]` through `VectorPlugin` (without it pg
 * would send `{…}`, a PostgreSQL array literal, which pgvector rejects).
 *
 * @example
 * ```ts
 * await db.updateTable('knowledge_entities').set({ embedding: [0.1, 0.2] }).where('id', '=', 1).execute()
 * ```
 */
export type Vector = ColumnType<number[] | null, number[] | null | undefined, number[] | null>

/**
 * The statuses `steps.status` and `parallel_tool_calls.status` allow (CHECK constraints
 * `chk_step_status` and `chk_parallel_status`).
 *
 * @example
 * ```ts
 * const done: ExecutionStatus = 'completed'
 * ```
 */
export type ExecutionStatus = 'pending' | 'running' | 'completed' | 'failed' | 'timeout'

/**
 * Who may see a knowledge entity: the values agent code writes to `knowledge_entities.level`
 * and that the partial vector indexes cover (`public`, `organization`). The column has no
 * CHECK (as deployed) and may hold any text, so rows read it as `string`.
 *
 * @example
 * ```ts
 * const level: KnowledgeLevel = 'public'
 * ```
 */
export type KnowledgeLevel = 'public' | 'organization' | 'user'
