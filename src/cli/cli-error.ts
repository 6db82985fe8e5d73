// The CLI's own errors, apart from their description (describe-error.ts), which only a failure loads.

/** Exit code 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError'
  readonly code = 'USAGE'
}

/** A failure of the CLI's own, with a stable code as MigrationError has (e.g. `NAME_EXISTS`). */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  readonly code: string
  readonly file?: string
  readonly advice?: string

  constructor(code: string, message: string, options: { readonly file?: string; readonly advice?: string } = {}) {
    super(message)
    this.code = code
    this.file = options.file
    this.advice = options.advice
  }
}
