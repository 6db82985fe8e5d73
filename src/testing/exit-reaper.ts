import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

export interface Leftovers {
  readonly adminUrl: string
  readonly names: readonly string[]
}

// Run by a detached `node` that outlives this process; its input comes in the environment, as `ps` shows argv.
const REAPER = `
const { default: pg } = await import(process.env.WUKONG_REAP_PG)
for (const { adminUrl, names } of JSON.parse(process.env.WUKONG_REAP_LEFTOVERS)) {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 30000, statement_timeout: 60000 })
  admin.on('error', () => {})
  try {
    await admin.connect()
    for (const name of names) {
      await admin.query('DROP DATABASE IF EXISTS "' + name.replace(/"/g, '""') + '" WITH (FORCE)').catch(() => {})
    }
  } catch {
    // The server is gone too: the next process's sweep drops them.
  } finally {
    await admin.end().catch(() => {})
  }
}
`

let registered = false

// process.exit() and signals (how test runners stop workers) leave no time for async work.
export function reapAtExit(leftovers: () => readonly Leftovers[]): void {
  if (registered) return
  registered = true
  const reap = (): void => {
    const work = leftovers().filter((l) => l.names.length > 0)
    if (work.length === 0) return
    try {
      spawn(process.execPath, ['--input-type=module', '-e', REAPER], {
        detached: true,
        stdio: 'ignore',
        env: {
          // libpq's variables (PGPASSWORD, PGSSLMODE, …) may complete the URL, as they did here.
          ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('PG'))),
          PATH: process.env['PATH'] ?? '',
          WUKONG_REAP_PG: pathToFileURL(createRequire(import.meta.url).resolve('pg')).href,
          WUKONG_REAP_LEFTOVERS: JSON.stringify(work),
        },
      }).unref()
    } catch {
      // Nothing more can be done while exiting; the next process's sweep drops them.
    }
  }
  process.on('exit', reap)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // A graceful shutdown owns the signal: its clones may be in use, and its process.exit() reaps.
      if (process.listenerCount(signal) > 0) return
      process.off('exit', reap)
      reap()
      process.kill(process.pid, signal)
    })
  }
}
