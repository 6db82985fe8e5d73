export { createDatabase, embeddedDataDir, type CreateDatabaseOptions, type DatabaseDriver } from './create-database.js'
export { resolveDatabaseUrl, DATABASE_URL_VARIABLES, type ResolvedDatabaseUrl, type DatabaseUrlSource } from './resolve-database-url.js'
export { redact, passwordOf } from './redact.js'
