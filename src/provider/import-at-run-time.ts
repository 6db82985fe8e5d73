// Bundlers would otherwise fail on a missing optional peer, or copy 20 MB of PGlite into a function.
export function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>
}
