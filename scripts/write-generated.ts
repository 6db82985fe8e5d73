import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Writes a generated file of the package, or with `--check` on the command line exits 1 when it is stale. */
export function writeGenerated(path: string, text: string, command: string): void {
  const target = fileURLToPath(new URL(`../${path}`, import.meta.url))
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {}
  if (current === text) return
  if (process.argv.includes('--check')) {
    process.stderr.write(`${path} is stale: run ${command}\n`)
    process.exitCode = 1
  } else {
    writeFileSync(target, text)
    process.stderr.write(`wrote ${path}\n`)
  }
}
