import { MigrationError } from './migration-error.js'

/**
 * No database URL is set and the process looks like a deployment, where the embedded database
 * would be migrated instead of the real one; `embedded: true` (`--embedded`) asks for it anyway.
 *
 * @example
 * ```ts
 * try {
 *   await new MigrationRunner().migrate()
 * } catch (error) {
 *   if (error instanceof NoDatabaseUrlError) console.error(error.variables, error.signals)
 * }
 * ```
 */
export class NoDatabaseUrlError extends MigrationError {
  override readonly name: string = 'NoDatabaseUrlError'
  /** The environment variables looked at, in order. */
  readonly variables: readonly string[]
  /** What made the process look like production, e.g. `['VERCEL=1']`; empty with `embedded: false`. */
  readonly signals: readonly string[]

  constructor(variables: readonly string[], signals: readonly string[]) {
    const why = signals.length
      ? `this looks like production (${signals.join(', ')}), so the embedded database is not used`
      : 'and the embedded database is turned off (embedded: false)'
    super(
      'NO_DATABASE_URL',
      `no database URL: none of ${variables.join(', ')} is set, ${why}; set one of them, ` +
        'or ask for the embedded database explicitly (embedded: true, wukong-migrate --embedded)',
    )
    this.variables = Object.freeze([...variables])
    this.signals = Object.freeze([...signals])
  }
}
