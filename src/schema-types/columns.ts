import type { ColumnType } from 'kysely'

// Most defaulted columns were deployed nullable, so their select type keeps `null`.

/**
 * Marks a column with a DEFAULT: Kysely's types cannot tell "optional because nullable" from
 * "optional because defaulted", and `DATABASE_COLUMNS` is checked against both.
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
export type DefaultTimestamp = NullableTimestamp & HasDefault

/**
 * A nullable column with a default: optional on insert.
 *
 * @example
 * ```ts
 * interface Row { status: Defaulted<string> } // varchar(50) DEFAULT 'active'
 * ```
 */
export type Defaulted<T> = Nullable<T> & HasDefault

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
 * A `serial` primary key: optional on insert, and an explicit id is accepted (restores, fixtures).
 *
 * @example
 * ```ts
 * const { id } = await db.insertInto('steps').values(step).returning('id').executeTakeFirstOrThrow()
 * ```
 */
export type Serial = ColumnType<number, number | undefined, number> & HasDefault

/**
 * `vector(n)` (pgvector), nullable: `number[]` both ways, with `registerVectorType` on the driver
 * and `VectorPlugin` on the Kysely instance.
 *
 * @example
 * ```ts
 * await db.updateTable('knowledge_entities').set({ embedding: [0.1, 0.2] }).where('id', '=', 1).execute()
 * ```
 */
export type Vector = ColumnType<number[] | null, number[] | null | undefined, number[] | null>

/**
 * What CHECKs `chk_step_status` and `chk_parallel_status` allow.
 *
 * @example
 * ```ts
 * const done: ExecutionStatus = 'completed'
 * ```
 */
export type ExecutionStatus = 'pending' | 'running' | 'completed' | 'failed' | 'timeout'

/**
 * Who may see a knowledge entity; no CHECK holds the column to these, so rows read it as `string`.
 *
 * @example
 * ```ts
 * const level: KnowledgeLevel = 'public'
 * ```
 */
export type KnowledgeLevel = 'public' | 'organization' | 'user'
