import { importAtRunTime } from './import-at-run-time.js'

type LibPgQuery = typeof import('libpg-query')

// A 1 MB WebAssembly module: loaded on first parse, never on the boot path nor into an app bundle.
let loading: Promise<LibPgQuery> | undefined
let loaded: LibPgQuery | undefined
let onNeeded: (() => void) | undefined

// The bin starts without V8 flags and relaunches itself with them when the parser is first needed (cli/main.ts).
export function whenSqlParserNeeded(hook: (() => void) | undefined): void {
  onNeeded = hook
}

// Called before the parser loads, and by the runner before its engine loads (the engine parses what it runs).
export function sqlParserNeeded(): void {
  onNeeded?.()
}

export function loadSqlParser(): Promise<LibPgQuery> {
  if (!loading) sqlParserNeeded()
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
