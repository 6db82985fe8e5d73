// `npm run migrate`: src/cli/migrate.ts bundled by esbuild (tens of ms) and run by plain Node, where
// tsx's loader hooks cost about 0.4 s of CPU a run. Node's --liftoff-only comes from package.json.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { build } from 'esbuild'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const out = join(root, 'node_modules/.cache/wukong-migrate/migrate.js')
const { outputFiles } = await build({
  entryPoints: [join(root, 'src/cli/migrate.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  outfile: out,
  sourcemap: 'linked',
  write: false,
  logLevel: 'warning',
})
mkdirSync(dirname(out), { recursive: true })
for (const file of outputFiles) {
  // Renamed into place whole, so a run beside this one never imports a half-written file.
  const partial = `${file.path}.${process.pid}.tmp`
  writeFileSync(partial, file.contents)
  renameSync(partial, file.path)
}
await import(pathToFileURL(out).href)
