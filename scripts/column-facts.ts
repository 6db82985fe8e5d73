/**
 * Writes src/schema-types/database-columns.ts: DATABASE_COLUMNS as the catalog of a database
 * migrated with the package's migrations reads it. The module `satisfies` the type computed
 * from `Database`, so tsc then proves that the Table interfaces and the migrations agree.
 *
 *   tsx scripts/column-facts.ts           write the module
 *   tsx scripts/column-facts.ts --check   exit 1 when it is stale
 */
import { readCatalogColumns } from '../src/schema-types/catalog-columns.js'
import { createTestDatabase } from '../src/testing/index.js'
import { writeGenerated } from './write-generated.js'

const { db, destroy } = await createTestDatabase({ tier: 'pglite' })
const facts = await readCatalogColumns(db).finally(destroy)
const text = [
  '// Generated from migrations/ by scripts/column-facts.ts (tsx scripts/column-facts.ts): do not edit.',
  "import type { DatabaseColumnFacts } from './column-facts.js'",
  '',
  '/**',
  ' * Every column as `[family, nullable, hasDefault]`, read from a migrated catalog and checked against the types.',
  ' *',
  ' * @example',
  ' * ```ts',
  " * DATABASE_COLUMNS.sessions.goal // ['string', false, false]",
  ' * ```',
  ' */',
  'export const DATABASE_COLUMNS = {',
  ...Object.entries(facts).flatMap(([table, columns]) => [
    `  ${table}: {`,
    ...Object.entries(columns).map(([column, [family, nullable, hasDefault]]) => {
      return `    ${column}: ['${family}', ${nullable}, ${hasDefault}],`
    }),
    '  },',
  ]),
  '} as const satisfies DatabaseColumnFacts',
  '',
].join('\n')

writeGenerated('src/schema-types/database-columns.ts', text, 'tsx scripts/column-facts.ts')
