export { diffSchema, type SchemaDiff, type DiffSchemaOptions } from './diff-schema.js'
export {
  compareSchemaCatalogs,
  groupOf,
  type SchemaDifference,
  type SchemaChange,
  type SchemaFactChange,
} from './compare-schema-catalogs.js'
export {
  readSchemaCatalog,
  type SchemaCatalog,
  type SchemaObject,
  type SchemaObjectKind,
  type SchemaFacts,
  type SchemaFact,
} from './read-schema-catalog.js'
export {
  openShadowDatabase,
  dropOpenShadowDatabases,
  type ShadowDatabase,
  type ShadowDatabaseOptions,
} from './shadow-database.js'
export {
  verifyRoundTrip,
  type RoundTripReport,
  type RoundTripFile,
  type RoundTripOutcome,
  type RoundTripTarget,
} from './verify-round-trip.js'
