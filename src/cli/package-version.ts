import { readFileSync } from 'node:fs'

/**
 * This package's name and version, from its package.json. The file is found relative to this
 * module, two folders up, which is the package root both from `src/cli/` and from the built
 * `dist/cli/`, whatever the working directory.
 */
export function packageVersion(): { readonly name: string; readonly version: string } {
  const { name, version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string
    version: string
  }
  return Object.freeze({ name, version })
}
