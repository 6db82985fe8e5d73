import os from 'node:os'

import type { PgAdmin } from './pg-admin.js'

/** What the figures were measured on. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly postgres: string
  /** Server settings that change DDL and commit cost. */
  readonly settings: Readonly<Record<string, string>>
  readonly os: string
}

/**
 * Describes this machine and the server.
 *
 * @example
 * ```ts
 * const machine = await describeMachine(admin)
 * ```
 */
export async function describeMachine(admin: PgAdmin): Promise<Machine> {
  const [version] = await admin.query<{ v: string }>("select current_setting('server_version') as v")
  const settings = await admin.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_level') order by name`,
  )
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: `PostgreSQL ${version?.v ?? '?'}`,
    settings: Object.fromEntries(settings.map((s) => [s.name, s.setting])),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  }
}

/**
 * The 1-minute load average and the core count, e.g. `1.93 on 2 cores`.
 *
 * @example
 * ```ts
 * loadLine() // '0.12 on 2 cores'
 * ```
 */
export function loadLine(): string {
  return `${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores`
}
