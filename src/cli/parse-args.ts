import { parseArgs } from 'node:util'

/** The commands of `wukong-migrate` (`up` is read as `migrate`). */
export type CliCommand = 'migrate' | 'status' | 'down' | 'create' | 'plan' | 'verify' | 'diff' | 'help'

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
  /** `down --to N`. */
  readonly to?: number
  /** `status --check`. */
  readonly check: boolean
  /** `diff` / `verify --roundtrip`: an empty database to build the expected schema in. */
  readonly shadowUrl?: string
  /** `verify --roundtrip`: prove the down files on a scratch database. */
  readonly roundtrip: boolean
  /** `verify --roundtrip --require-down`: a file without a down file fails. */
  readonly requireDown: boolean
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
  diff: 'diff',
  help: 'help',
}

// Which flags mean something to which command. A flag that would be silently ignored is
// refused instead: `status --allow-drift` or `migrate --to 3` is a mistake worth hearing about.
const APPLIES: Readonly<Record<string, readonly CliCommand[]>> = {
  url: ['migrate', 'status', 'down', 'plan', 'diff', 'verify'],
  'shadow-url': ['diff', 'verify'],
  roundtrip: ['verify'],
  'require-down': ['verify'],
  'allow-drift': ['migrate', 'down', 'plan'],
  'lock-timeout': ['migrate', 'down'],
  'statement-timeout': ['migrate', 'down'],
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
  if (values['shadow-url'] === '') throw new UsageError('--shadow-url is empty')
  if (command === 'verify' && !values.roundtrip && !help) {
    for (const flag of ['url', 'shadow-url', 'require-down'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to verify without --roundtrip (plain verify reads no database)`)
    }
  }

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
    to: count(values.to, '--to'),
    check: values.check === true,
    shadowUrl: values['shadow-url'],
    roundtrip: values.roundtrip === true,
    requireDown: values['require-down'] === true,
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
      to: { type: 'string' },
      check: { type: 'boolean' },
      'shadow-url': { type: 'string' },
      roundtrip: { type: 'boolean' },
      'require-down': { type: 'boolean' },
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
