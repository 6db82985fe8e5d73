import type { SelectType } from 'kysely'

import type { Database } from './database.js'

/** Columns are compared by the TypeScript type a driver returns for them, not by SQL type. */
export type ColumnFamily = 'string' | 'number' | 'boolean' | 'timestamp' | 'json' | 'vector'

type FamilyOf<T> = [T] extends [number[]]
  ? 'vector'
  : [T] extends [Date]
    ? 'timestamp'
    : [T] extends [string]
      ? 'string'
      : [T] extends [number]
        ? 'number'
        : [T] extends [boolean]
          ? 'boolean'
          : 'json'

/** Computed from the column's type, so a `DATABASE_COLUMNS` entry that disagrees does not compile. */
export type ColumnFacts<C> = readonly [
  FamilyOf<NonNullable<SelectType<C>>>,
  null extends SelectType<C> ? true : false,
  '__hasDefault__' extends keyof C ? true : false,
]

/** Exact: a `DATABASE_COLUMNS` with a column missing or extra does not compile. */
export type DatabaseColumnFacts = ColumnFactsOf<Database>

export type ColumnFactsOf<DB> = {
  readonly [T in keyof DB]: { readonly [K in keyof DB[T]]-?: ColumnFacts<DB[T][K]> }
}
