import { readFileSync } from 'node:fs'

/** Two folders up is the package root from both `src/cli/` and `dist/cli/`, whatever the working directory. */
export function packageVersion(): { readonly name: string; readonly version: string } {
  const { name, version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string
    version: string
  }
  return Object.freeze({ name, version })
}
