import { importAtRunTime } from './import-at-run-time.js'

type LibPgQuery = typeof import('libpg-query')

// PostgreSQL's parser (libpg-query, a 1 MB WebAssembly module) loads on the first file that
// needs parsing, never on the boot path that only compares checksums, and never into an app
// bundle (the package's own migrations are parsed when the package is built).
let loading: Promise<LibPgQuery> | undefined
let loaded: LibPgQuery | undefined

export function loadSqlParser(): Promise<LibPgQuery> {
  loading ??= importAtRunTime<LibPgQuery>('libpg-query').then(async (lib) => {
    await lib.loadModule()
    loaded = lib
    return lib
  })
  return loading
}

// For synchronous code that runs after loadSqlParser() resolved (inside parseMigrationSql).
export function loadedSqlParser(): LibPgQuery {
  if (!loaded) throw new Error('the SQL parser is used before loadSqlParser() resolved')
  return loaded
}
