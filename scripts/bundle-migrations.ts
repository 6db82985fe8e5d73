/**
 * Writes src/provider/wukong-migrations.ts: the package's own migrations/ folder, validated and
 * parsed now, as a module. An app that bundles its server code (a Vercel function, Next.js)
 * then carries the schema inside its bundle, and at run time needs neither the folder nor the
 * SQL parser. `npm run build` runs it; `npm test` checks that the module is current.
 *
 *   tsx scripts/bundle-migrations.ts           write the module
 *   tsx scripts/bundle-migrations.ts --check   exit 1 when it is stale
 */
import { fileURLToPath } from 'node:url'

import { readMigrationFolder, type MigrationFile } from '../src/provider/index.js'
import { writeGenerated } from './write-generated.js'

const root = fileURLToPath(new URL('..', import.meta.url))

// Paths relative to the package, so the module is the same on every machine.
const files = (await readMigrationFolder(`${root}migrations`)).map(
  (file): MigrationFile => ({
    ...file,
    path: `migrations/${file.fileName}`,
    down: file.down ? { ...file.down, path: `migrations/${file.down.fileName}` } : undefined,
  }),
)
const text = [
  '// Generated from migrations/ by scripts/bundle-migrations.ts (npm run build:migrations): do not edit.',
  "import type { MigrationFile } from './migration-file.js'",
  '',
  "/** The Wukong schema: the package's migrations/ folder, validated and parsed at build time. */",
  `export const WUKONG_MIGRATIONS: readonly MigrationFile[] = ${JSON.stringify(files, null, 1)}`,
  '',
].join('\n')

writeGenerated('src/provider/wukong-migrations.ts', text, 'npm run build:migrations')
