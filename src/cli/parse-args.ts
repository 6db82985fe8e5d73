import { parseArgs } from 'node:util'

/** The commands of `wukong-migrate` (`up` is read as `migrate`). */
export type CliCommand = 'migrate' | 'status' | 'down' | 'create' | 'plan' | 'verify' | 'help'

/** A parsed command line. */
export interface CliArgs {
  readonly command: CliCommand
  /** The name given to `create`. */
  readonly name?: string
  readonly url?: string
  readonly dir?: string
  readonly json: boolean
  readonly help: boolean
  readonly allowDrift: boolean
  readonly lockTimeoutMs?: number
  readonly statementTimeoutMs?: number
  /** The embedded database: longest wait for another process to close its folder. */
  readonly busyTimeoutMs?: number
  /** `down --to N`. */
  readonly to?: number
  /** `status --check`. */
  readonly check: boolean
}

/**
 * A command line that cannot be run as written (exit code 2).
 *
 * @example
 * ```ts
 * throw new UsageError('unknown command "upp"')
 * ```
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError'
  readonly code = 'USAGE'
}

const COMMANDS: Readonly<Record<string, CliCommand>> = {
  migrate: 'migrate',
  up: 'migrate',
  status: 'status',
  down: 'down',
  create: 'create',
  plan: 'plan',
  verify: 'verify',
  help: 'help',
}

// Which flags mean something to which command. A flag that would be silently ignored is
// refused instead: `status --allow-drift` or `migrate --to 3` is a mistake worth hearing about.
const APPLIES: Readonly<Record<string, readonly CliCommand[]>> = {
  url: ['migrate', 'status', 'down', 'plan'],
  'allow-drift': ['migrate', 'down', 'plan'],
  'lock-timeout': ['migrate', 'down'],
  'statement-timeout': ['migrate', 'down'],
  'busy-timeout': ['migrate', 'status', 'down', 'plan'],
  to: ['down'],
  check: ['status'],
}

/**
 * Parses `wukong-migrate`'s arguments (without `node` and the script). Throws a
 * {@link UsageError} for anything it cannot run: an unknown command or flag, a missing or
 * malformed value, a flag the command does not use.
 *
 * @example
 * ```ts
 * parseCliArgs(['down', '--to', '3', '--json'])
 * // { command: 'down', to: 3, json: true, … }
 * ```
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  const [word, ...rest] = positionals
  const help = values.help === true
  if (word === undefined && !help) throw new UsageError('no command given')
  const command = word === undefined ? 'help' : COMMANDS[word]
  if (!command) throw new UsageError(`unknown command "${word}"`)

  for (const [flag, commands] of Object.entries(APPLIES)) {
    if (values[flag as keyof typeof values] !== undefined && !help && !commands.includes(command)) {
      throw new UsageError(`--${flag} does not apply to ${command} (it applies to ${commands.join(', ')})`)
    }
  }
  let name: string | undefined
  if (command === 'create' && !help) {
    if (rest.length !== 1) throw new UsageError(rest.length ? `create takes one name, got ${rest.length}: quote a name with spaces` : 'create needs a name, e.g. create add_session_tags')
    name = rest[0]
  } else if (rest.length && command !== 'help') {
    throw new UsageError(`unexpected argument "${rest[0]}" after ${command}`)
  }
  if (values.url === '') throw new UsageError('--url is empty')
  if (values.dir === '') throw new UsageError('--dir is empty')

  return Object.freeze({
    command,
    name,
    url: values.url,
    dir: values.dir,
    json: values.json === true,
    help,
    allowDrift: values['allow-drift'] === true,
    lockTimeoutMs: count(values['lock-timeout'], '--lock-timeout'),
    statementTimeoutMs: count(values['statement-timeout'], '--statement-timeout'),
    busyTimeoutMs: count(values['busy-timeout'], '--busy-timeout'),
    to: count(values.to, '--to'),
    check: values.check === true,
  })
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      dir: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      'allow-drift': { type: 'boolean' },
      'lock-timeout': { type: 'string' },
      'statement-timeout': { type: 'string' },
      'busy-timeout': { type: 'string' },
      to: { type: 'string' },
      check: { type: 'boolean' },
    },
  })
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} needs a whole number (milliseconds for timeouts, a version for --to), got "${value}"`)
  }
  return Number(value)
}
