import type { ColumnType } from 'kysely'

/**
 * A JSON value, as pg returns a `jsonb` column (parsed), with its scalar and array forms.
 *
 * @example
 * ```ts
 * const parameters: Json = { query: 'pgvector', limit: 5 }
 * const tags: JsonArray = ['postgres', 'kysely']
 * const value: JsonPrimitive = 'done'
 * ```
 */
export type Json = JsonPrimitive | JsonArray | JsonObject
export type JsonPrimitive = string | number | boolean | null
export type JsonArray = Json[]

/**
 * A JSON object; properties may be `undefined` (dropped by JSON.stringify), so optional ones fit.
 *
 * @example
 * ```ts
 * const state: JsonObject = { step: 3, todos: [{ id: 't1', done: true }] }
 * ```
 */
export interface JsonObject {
  [key: string]: Json | undefined
}

/**
 * What pg writes into `jsonb` as it is: an object, or JSON text (stringify arrays: pg sends them as SQL arrays).
 *
 * @example
 * ```ts
 * const tags: JsonInput = JSON.stringify(['postgres', 'kysely'])
 * const config: JsonInput = { tools: ['search'] }
 * ```
 */
export type JsonInput = JsonObject | string

/**
 * A `jsonb` column that reads as `T` and writes as {@link JsonInput}.
 *
 * @example
 * ```ts
 * interface Row { session_state: JsonColumn<JsonObject> } // jsonb NOT NULL
 * ```
 */
export type JsonColumn<T extends Json = Json> = ColumnType<T, JsonInput, JsonInput>

/**
 * A nullable `jsonb` column.
 *
 * @example
 * ```ts
 * interface Row { metadata: NullableJson }
 * ```
 */
export type NullableJson<T extends Json = Json> = ColumnType<T | null, JsonInput | null | undefined, JsonInput | null>
