import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import { exportedNames, filesUnder, importedNames, jsdocExamples, markdownBlocks, type DocBlock } from './doc-blocks.js'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * What the documentation compiles against. `source`: `@wukong/adapter-vercel` and `/testing`
 * resolve to src/ through tsconfig `paths` (no build needed). `built`: no `paths`; the imports
 * go through the package's own `exports` (a self-reference: the projects live inside the
 * package folder), i.e. whatever `exports` points at, such as a built dist/.
 */
export const PACKAGE_UNDER_TEST: 'source' | 'built' = 'source'

/** The Markdown files whose ```ts blocks are checked. */
export function markdownFiles(): string[] {
  return ['README.md', 'CONTRIBUTING.md', ...filesUnder(ROOT, 'docs', '.md')].filter((f) => {
    try {
      readFileSync(join(ROOT, f))
      return true
    } catch {
      return false
    }
  })
}

/** A folder of TypeScript files with its tsconfig.json, one file per block. */
export interface DocProject {
  readonly dir: string
  /** File name (in `dir`) → the block it holds. */
  readonly files: ReadonlyMap<string, DocBlock>
}

const COMPILER_OPTIONS = {
  target: 'ES2023',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node'],
}

function paths(): Record<string, string[]> | undefined {
  if (PACKAGE_UNDER_TEST === 'built') return undefined
  return {
    '@wukong/adapter-vercel': [join(ROOT, 'src/index.ts')],
    '@wukong/adapter-vercel/testing': [join(ROOT, 'src/testing/index.ts')],
  }
}

function fileName(block: DocBlock): string {
  return `${block.file.replace(/[^\w]+/g, '_')}_${block.line}.ts`
}

function write(
  dir: string,
  compilerOptions: object,
  files: Map<string, { block: DocBlock; text: string }>,
  extra: Record<string, string> = {},
): DocProject {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }, null, 2))
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text)
  for (const [name, { text }] of files) writeFileSync(join(dir, name), text)
  return { dir, files: new Map([...files].map(([name, { block }]) => [name, block])) }
}

/**
 * The Markdown blocks as an app would hold them: each a module of its own that imports what it
 * uses from `@wukong/adapter-vercel`, kysely, pg or vitest, with nothing added.
 *
 * @example
 * ```ts
 * const { dir, files } = writeMarkdownProject(join(ROOT, '.tmp-docs-check'))
 * ```
 */
export function writeMarkdownProject(base: string): DocProject {
  const files = new Map<string, { block: DocBlock; text: string }>()
  for (const file of markdownFiles()) {
    for (const block of markdownBlocks(ROOT, file))
      files.set(fileName(block), { block, text: `${block.code}\nexport {}\n` })
  }
  // For the `ts test` blocks, run as vitest files of this folder (vite reads no tsconfig paths).
  const alias = Object.entries(paths() ?? {}).map(([name, [target]]) => ({
    find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`),
    replacement: target,
  }))
  const config = `export default { resolve: { alias: [${alias.map((a) => `{ find: ${a.find}, replacement: ${JSON.stringify(a.replacement)} }`).join(', ')}] }, test: { include: ['*.ts'], testTimeout: 120000, hookTimeout: 120000 } }\n`
  return write(join(base, 'markdown'), { ...COMPILER_OPTIONS, paths: paths() }, files, { 'vitest.config.mjs': config })
}

/**
 * The `@example`s of src/. The convention: an example may use, without importing them, any
 * name a module of src/ exports and the usual names of kysely, pg and node (a prelude imports
 * what it mentions, as an editor's auto-import would), vitest's globals (`it`, `expect`, …),
 * and the placeholders declared in `examples.d.ts` below (`db`, `url`, `ctx`, …) for values
 * its reader already has. Everything else it declares itself.
 *
 * @example
 * ```ts
 * writeExampleProject(join(ROOT, '.tmp-docs-check'))
 * ```
 */
export function writeExampleProject(base: string): DocProject {
  const dir = join(base, 'examples')
  const files = new Map<string, { block: DocBlock; text: string }>()
  const index = exportIndex(dir)
  for (const file of filesUnder(ROOT, 'src', '.ts')) {
    for (const block of jsdocExamples(ROOT, file))
      files.set(fileName(block), { block, text: `${prelude(block.code, index)}${block.code}\nexport {}\n` })
  }
  const src = (path: string): string => relative(dir, join(ROOT, 'src', path)).replace(/\.ts$/, '.js')
  return write(
    dir,
    { ...COMPILER_OPTIONS, paths: paths(), types: ['node', 'vitest/globals'], noUnusedLocals: false },
    files,
    {
      'examples.d.ts': `// Placeholders an example may use as if its reader had them already.
import type { Kysely, PostgresDialect } from 'kysely'
import type { MigrationResultSet } from 'kysely/migration'
import type pg from 'pg'

import type { CliIo, CliOutput } from '${src('cli/cli-output.ts')}'
import type { ApplyEvent } from '${src('provider/apply-migration.ts')}'
import type { RunLedger } from '${src('provider/ledger.ts')}'
import type { MigrationFile } from '${src('provider/migration-file.ts')}'
import type { LedgerSnapshot } from '${src('provider/ledger.ts')}'
import type { MigrationStatus } from '${src('provider/migration-plan.ts')}'
import type { MigrationFileResult } from '${src('runner/migration-run-error.ts')}'
import type { SqlFileMigrationProvider } from '${src('provider/sql-file-migration-provider.ts')}'
import type { NewStep } from '${src('schema-types/tables.ts')}'
import type { CommandContext } from '${src('cli/command-context.ts')}'
import type { DatabaseTarget } from '${src('cli/database-target.ts')}'
import type { MigrationRunner } from '${src('runner/runner.ts')}'
import type { Database } from '${src('schema-types/database.ts')}'
import type { TestDatabase } from '${src('testing/create-test-database.ts')}'

declare global {
  /** A migrated database. */
  const db: Kysely<Database>
  /** A PostgreSQL URL. */
  const url: string
  /** A URL whose user may create databases. */
  const adminUrl: string
  const pool: pg.Pool
  /** A connection with admin rights on the server. */
  const admin: pg.Client
  const runner: MigrationRunner
  /** The CLI's streams, environment and working directory. */
  const io: CliIo
  const ctx: CommandContext
  const target: DatabaseTarget
  /** A migration folder. */
  const folder: string
  /** A test database from createTestDatabase(). */
  const t: TestDatabase
  /** Something caught. */
  const error: unknown
  /** What a command printed on stdout. */
  const stdout: string
  const out: CliOutput
  const files: readonly MigrationFile[]
  const file: MigrationFile
  const ledger: RunLedger
  const snapshot: LedgerSnapshot
  const status: MigrationStatus
  const results: readonly MigrationFileResult[]
  const outcome: MigrationResultSet
  const event: ApplyEvent
  const provider: SqlFileMigrationProvider
  const dialect: PostgresDialect
  /** A session's id. */
  const id: string
  const step: NewStep
  /** A vector(1536) value, e.g. from an embedding model. */
  const embedding: number[]
  const queryEmbedding: number[]
}
export {}
`,
    },
  )
}

const EXTERNAL: Readonly<Record<string, readonly string[]>> = {
  kysely: [
    'Kysely',
    'PostgresDialect',
    'PostgresAdapter',
    'sql',
    'Selectable',
    'Insertable',
    'Updateable',
    'ColumnType',
    'Generated',
    'Transaction',
    'RawBuilder',
  ],
  'kysely/migration': ['Migrator', 'NO_MIGRATIONS'],
  'node:fs/promises': ['readFile', 'writeFile'],
  'node:path': ['join'],
}

/** Every name src/ declares and exports (index files re-export: skipped), with its module. */
function exportIndex(dir: string): Map<string, string> {
  const index = new Map<string, string>()
  for (const [module, names] of Object.entries(EXTERNAL)) for (const name of names) index.set(name, module)
  for (const file of filesUnder(ROOT, 'src', '.ts')) {
    if (file.endsWith('/index.ts')) continue
    const specifier = relative(dir, join(ROOT, file)).replace(/\.ts$/, '.js')
    for (const name of exportedNames(readFileSync(join(ROOT, file), 'utf8')))
      if (!index.has(name)) index.set(name, specifier)
  }
  return index
}

function prelude(code: string, index: ReadonlyMap<string, string>): string {
  const own = new Set(importedNames(code))
  for (const m of code.matchAll(/\b(?:const|let|var|function|class|type|interface)\s+([A-Za-z_$][\w$]*)/g))
    own.add(m[1]!)
  const wanted = new Map<string, string[]>()
  for (const word of new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? [])) {
    const module = index.get(word)
    if (!module || own.has(word)) continue
    wanted.set(module, [...(wanted.get(module) ?? []), word])
  }
  const lines = [...wanted].map(([module, names]) => `import { ${names.join(', ')} } from '${module}'`)
  if (/\bpg\./.test(code) && !own.has('pg')) lines.push("import pg from 'pg'")
  return lines.length ? `${lines.join('\n')}\n` : ''
}
