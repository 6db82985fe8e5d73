// Left to run time by app bundlers, which otherwise fail on an optional peer that is not
// installed, or copy 20 MB of PGlite into a serverless function.
export function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>
}
