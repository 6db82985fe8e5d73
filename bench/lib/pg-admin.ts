import { randomBytes } from 'node:crypto'

import pg from 'pg'

import { guardConnectionErrors } from '../../src/connect/index.js'

/**
 * Admin operations on the benchmark server, over one short-lived connection each.
 *
 * @example
 * ```ts
 * const admin = new PgAdmin('postgres://postgres@127.0.0.1:55432/postgres')
 * const name = await admin.createDatabase('w1')
 * await admin.dropDatabase(name)
 * ```
 */
export class PgAdmin {
  readonly #url: string
  readonly #created = new Set<string>()

  constructor(url: string) {
    this.#url = url
  }

  get url(): string {
    return this.#url
  }

  /** A unique database name with the benchmark's prefix. */
  static uniqueName(label: string): string {
    return `wkbench_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  }

  /** Creates an empty database (or a clone of `template`) and returns its name. */
  async createDatabase(label: string, template?: string): Promise<string> {
    const name = PgAdmin.uniqueName(label)
    await this.query(`CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`)
    this.#created.add(name)
    return name
  }

  /** Creates a database with `options` (e.g. `TEMPLATE "t" STRATEGY FILE_COPY`) and returns its name. */
  async createDatabaseAs(label: string, options: string): Promise<string> {
    const name = PgAdmin.uniqueName(label)
    await this.query(`CREATE DATABASE ${quoteIdent(name)} ${options}`)
    this.#created.add(name)
    return name
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
    this.#created.delete(name)
  }

  /** Drops every database this instance created and has not dropped. */
  async dropAll(): Promise<void> {
    for (const name of [...this.#created]) await this.dropDatabase(name).catch(() => {})
  }

  /** The URL of database `name` on this server. */
  urlOf(name: string): string {
    const u = new URL(this.#url)
    u.pathname = `/${encodeURIComponent(name)}`
    return u.toString()
  }

  /** Runs SQL on the admin database, or on `database`. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, database?: string): Promise<R[]> {
    const client = guardConnectionErrors(
      new pg.Client({ connectionString: database ? this.urlOf(database) : this.#url }),
    )
    await client.connect()
    try {
      const result = await client.query<R>(text)
      return result.rows
    } finally {
      await client.end()
    }
  }
}

/**
 * Quotes a SQL identifier.
 *
 * @example
 * ```ts
 * quoteIdent('a"b') // '"a""b"'
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
