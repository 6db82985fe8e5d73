import { MigrationError } from './migration-error.js'

/**
 * No database URL is set and the process looks like a deployment (see `productionSignals`):
 * migrating the embedded database there would report success and touch nothing real, so the
 * run stops instead. `embedded: true` (the CLI's `--embedded`) asks for the embedded database
 * on purpose.
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
  /**
   * What made the process look like production, e.g. `['NODE_ENV=production', 'VERCEL=1']`;
   * empty when the embedded database was turned off (`embedded: false`).
   */
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
