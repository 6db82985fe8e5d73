export type { SchemaDiff } from './diff-schema.js'
export { groupOf, type SchemaDifference } from './compare-schema-catalogs.js'
export { readSchemaCatalog, type SchemaFact, type SchemaFacts } from './read-schema-catalog.js'
export type { RoundTripReport, RoundTripFile } from './verify-round-trip.js'
