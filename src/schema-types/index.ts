export * from './database.js'
export type * from './tables.js'
export type * from './columns.js'
export type * from './json.js'
export {
  registerVectorType,
  VectorPlugin,
  cosineDistance,
  type ClientPool,
  type VectorColumnReference,
} from './vector.js'
export {
  DATABASE_COLUMNS,
  type ColumnFacts,
  type ColumnFactsOf,
  type ColumnFamily,
  type DatabaseColumnFacts,
} from './column-facts.js'
export {
  readCatalogColumns,
  columnDifferences,
  findSchemaDifferences,
  type ColumnFactsByTable,
  type ColumnFactsTuple,
} from './catalog-columns.js'
