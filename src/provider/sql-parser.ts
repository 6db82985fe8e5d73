import { importAtRunTime } from './import-at-run-time.js'

type LibPgQuery = typeof import('libpg-query')

// A 1 MB WebAssembly module: loaded on first parse, never on the boot path nor into an app bundle.
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
