/**
 * `import(specifier)` that app bundlers (esbuild, webpack, Turbopack, Vite) leave to run time:
 * the specifier is not a literal, and the comments tell webpack and Turbopack not to resolve it.
 * For the optional drivers and the SQL parser, so that an app that never uses them bundles,
 * traces and deploys without them (a bundler otherwise fails on an optional peer that is not
 * installed, or copies 20 MB of PGlite into a serverless function).
 */
export function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>
}
