// A migrating process for the reliability suites: one MigrationRunner run in its own OS
// process, so that tests can start many at once, SIGKILL one at a random instant, or run one
// as another OS user. (The CLI is written elsewhere; this script only needs the runner.)
//
//   node --import tsx test/support/migrate-child.ts '<ChildConfig as JSON>'
//
// stdout: one JSON object per line (`ChildEvent`). Exit 0: migrated; 1: a MigrationError
// (its code on the `failed` line); 2: anything else (a bug: errors must be MigrationErrors).
import { createInterface } from 'node:readline'

import { MigrationError, MigrationRunError, MigrationRunner } from '../../src/index.js'

/** What the parent asks of the child. */
export interface ChildConfig {
  readonly url?: string
  readonly folder: string
  /** Read and parse the files, print `ready`, then wait for one line on stdin before migrating. */
  readonly barrier?: boolean
  /** SIGKILL itself right after this version is applied (its commit done, Kysely's row not yet). */
  readonly killAfterVersion?: number
  /** Drop to this OS user (uid/gid) before reading the folder: real permission checks as root. */
  readonly runAs?: { readonly uid: number; readonly gid: number }
}

/** One line of the child's stdout. */
export type ChildEvent =
  | { readonly event: 'ready'; readonly pid: number }
  | { readonly event: 'started'; readonly at: number }
  | { readonly event: 'applied'; readonly version: number; readonly kind: string; readonly at: number }
  | { readonly event: 'done'; readonly statuses: readonly string[]; readonly currentVersion: number | null }
  | {
      readonly event: 'failed'
      readonly name: string
      readonly code?: string
      readonly message: string
      readonly file?: string
      readonly line?: number
      readonly column?: number
      readonly statuses?: readonly string[]
      /** The stacks of the error and its causes, for diagnosis. */
      readonly stack?: string
    }

const emit = (event: ChildEvent): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig
// Never fall back to POSTGRES_URL or the embedded database: a test names its database.
if (!config.url) {
  emit({ event: 'failed', name: 'Error', message: 'migrate-child: no url given' })
  process.exit(2)
}

if (config.runAs) {
  process.setgroups?.([config.runAs.gid])
  process.setgid?.(config.runAs.gid)
  process.setuid?.(config.runAs.uid)
}

const runner = new MigrationRunner({
  url: config.url,
  migrationFolder: config.folder,
  log: () => {},
  onApply: (event) => {
    emit({ event: 'applied', version: event.version, kind: event.kind, at: Date.now() })
    if (event.version === config.killAfterVersion) process.kill(process.pid, 'SIGKILL')
  },
})

let code = 0
try {
  if (config.barrier) {
    // Read and parse the files first, so that the release starts every child at its migration.
    await runner.verify()
    emit({ event: 'ready', pid: process.pid })
    await firstLine()
  }
  emit({ event: 'started', at: Date.now() })
  const result = await runner.migrate()
  emit({
    event: 'done',
    statuses: result.results.map((r) => `${r.version}:${r.status}`),
    currentVersion: result.currentVersion,
  })
  await runner.close()
} catch (error) {
  const e = error as Error & Partial<MigrationError>
  emit({
    event: 'failed',
    name: e?.name ?? typeof error,
    code: e instanceof MigrationError ? e.code : undefined,
    message: e?.message ?? String(error),
    file: e?.file,
    line: e?.line,
    column: e?.column,
    statuses: error instanceof MigrationRunError ? error.results.map((r) => `${r.version}:${r.status}`) : undefined,
    stack: stacks(error),
  })
  code = error instanceof MigrationError ? 1 : 2
}
process.exit(code)

function stacks(error: unknown): string {
  const parts: string[] = []
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) parts.push(e.stack ?? e.message)
  return parts.join('\ncaused by: ')
}

function firstLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin })
    rl.once('line', (line) => {
      resolve(line.trim())
      rl.close()
    })
    rl.once('close', () => reject(new Error('stdin closed before the release')))
  })
}
