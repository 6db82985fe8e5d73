import { parseArgs } from 'node:util'

/** The commands of `wukong-migrate` (`up` is read as `migrate`; `--version` is `version`). */
export type CliCommand = 'migrate' | 'status' | 'down' | 'create' | 'plan' | 'verify' | 'diff' | 'help' | 'version'

/** A parsed command line. */
export interface CliArgs {
  readonly command: CliCommand
  /** The name given to `create`. */
  readonly name?: string
  readonly url?: string
  readonly dir?: string
  readonly json: boolean
  /** `--help` (or `help <command>`): print the usage of {@link helpFor}, run nothing. */
  readonly help: boolean
  /** The command `--help` asks about; undefined for the general usage. */
  readonly helpFor?: Exclude<CliCommand, 'help' | 'version'>
  readonly allowDrift: boolean
  readonly lockTimeoutMs?: number
  /** `--lock-wait-timeout`: longest wait for another migrator's lock. */
  readonly lockWaitTimeoutMs?: number
  /** `--connect-timeout`: longest wait for a connection. */
  readonly connectTimeoutMs?: number
  readonly statementTimeoutMs?: number
  /** The embedded database: longest wait for another process to close its folder. */
  readonly busyTimeoutMs?: number
  /** `down --to N`. */
  readonly to?: number
  /** `status --check`. */
  readonly check: boolean
  /** `--embedded`: use the embedded database whatever the environment holds. */
  readonly embedded: boolean
  /** `--env-file PATH` (repeatable), in order; replaces the default `.env` and `.env.local`. */
  readonly envFiles: readonly string[]
  /** `diff` / `verify --roundtrip`: an empty database to build the expected schema in. */
  readonly shadowUrl?: string
  /** `verify --roundtrip`: prove the down files on a scratch database. */
  readonly roundtrip: boolean
  /** `verify --roundtrip --require-down`: a file without a down file fails. */
  readonly requireDown: boolean
}

/** A command line that cannot be run as written (exit code 2). */
export class UsageError extends Error {
  override readonly name: string = 'UsageError'
  readonly code = 'USAGE'
}

const COMMANDS: Readonly<Record<string, Exclude<CliCommand, 'version'>>> = {
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

/** The flags, with their value (if any) and short form. */
export const CLI_FLAGS = {
  url: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  'allow-drift': { type: 'boolean' },
  'lock-timeout': { type: 'string' },
  'lock-wait-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'statement-timeout': { type: 'string' },
  'busy-timeout': { type: 'string' },
  to: { type: 'string' },
  check: { type: 'boolean' },
  embedded: { type: 'boolean' },
  'env-file': { type: 'string', multiple: true },
  'shadow-url': { type: 'string' },
  roundtrip: { type: 'boolean' },
  'require-down': { type: 'boolean' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>

/** A flag's name, without the dashes. */
export type CliFlag = keyof typeof CLI_FLAGS

/**
 * Which flags mean something to which command; flags not listed apply to every command. A
 * flag that would be silently ignored is refused instead: `status --allow-drift` or
 * `migrate --to 3` is a mistake worth hearing about.
 */
export const FLAG_COMMANDS: Readonly<Partial<Record<CliFlag, readonly CliCommand[]>>> = {
  url: ['migrate', 'status', 'down', 'plan', 'diff', 'verify'],
  embedded: ['migrate', 'status', 'down', 'plan', 'diff', 'verify'],
  'shadow-url': ['diff', 'verify'],
  roundtrip: ['verify'],
  'require-down': ['verify'],
  'allow-drift': ['migrate', 'down', 'plan'],
  'lock-timeout': ['migrate', 'down', 'status', 'plan'],
  'lock-wait-timeout': ['migrate', 'down'],
  'connect-timeout': ['migrate', 'status', 'down', 'plan'],
  'statement-timeout': ['migrate', 'down'],
  'busy-timeout': ['migrate', 'status', 'down', 'plan'],
  to: ['down'],
  check: ['status'],
}

/**
 * Parses `wukong-migrate`'s arguments (without `node` and the script). Throws a
 * {@link UsageError} for anything it cannot run: an unknown command or flag, a missing or
 * malformed value, a flag the command does not use.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parse(argv)
  const [word, ...rest] = positionals
  let help = values.help === true
  if (values.version === true) {
    if (word !== undefined) throw new UsageError(`--version takes no command (got "${word}")`)
    return Object.freeze({ ...defaults(), command: 'version', json: values.json === true })
  }
  if (word === undefined && !help) throw new UsageError('no command given')
  const command = word === undefined ? 'help' : COMMANDS[word]
  if (!command) throw new UsageError(`unknown command "${word}"`)
  let helpFor: CliArgs['helpFor']
  if (command === 'help' && rest.length) {
    // `help migrate` is `migrate --help`.
    const about = COMMANDS[rest[0]!]
    if (!about || about === 'help' || rest.length > 1)
      throw new UsageError(`help takes one command name, got "${rest.join(' ')}"`)
    helpFor = about
    help = true
  } else if (help && command !== 'help') {
    helpFor = command
  }
  if (help) return Object.freeze({ ...defaults(), command: 'help', help, helpFor, json: values.json === true })

  for (const [flag, commands] of Object.entries(FLAG_COMMANDS)) {
    if (values[flag as CliFlag] !== undefined && !commands.includes(command)) {
      throw new UsageError(`--${flag} does not apply to ${command} (it applies to ${commands.join(', ')})`)
    }
  }
  let name: string | undefined
  if (command === 'create') {
    if (rest.length !== 1)
      throw new UsageError(
        rest.length
          ? `create takes one name, got ${rest.length}: quote a name with spaces`
          : 'create needs a name, e.g. create add_session_tags',
      )
    name = rest[0]
  } else if (rest.length) {
    throw new UsageError(`unexpected argument "${rest[0]}" after ${command}`)
  }
  if (values.url === '') throw new UsageError('--url is empty')
  if (values.dir === '') throw new UsageError('--dir is empty')
  if (values['env-file']?.some((f) => f === '')) throw new UsageError('--env-file is empty')
  if (values.url !== undefined && values.embedded === true)
    throw new UsageError('--url and --embedded name two different databases: pass one')
  if (values['shadow-url'] === '') throw new UsageError('--shadow-url is empty')
  if (command === 'verify' && !values.roundtrip) {
    for (const flag of ['url', 'shadow-url', 'require-down'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(`--${flag} does not apply to verify without --roundtrip (plain verify reads no database)`)
    }
  }

  return Object.freeze({
    ...defaults(),
    command,
    name,
    url: values.url,
    dir: values.dir,
    json: values.json === true,
    allowDrift: values['allow-drift'] === true,
    lockTimeoutMs: count(values['lock-timeout'], '--lock-timeout'),
    lockWaitTimeoutMs: count(values['lock-wait-timeout'], '--lock-wait-timeout'),
    connectTimeoutMs: count(values['connect-timeout'], '--connect-timeout'),
    statementTimeoutMs: count(values['statement-timeout'], '--statement-timeout'),
    busyTimeoutMs: count(values['busy-timeout'], '--busy-timeout'),
    to: count(values.to, '--to'),
    check: values.check === true,
    shadowUrl: values['shadow-url'],
    roundtrip: values.roundtrip === true,
    requireDown: values['require-down'] === true,
    embedded: values.embedded === true,
    envFiles: Object.freeze([...(values['env-file'] ?? [])]),
  })
}

function defaults(): Omit<CliArgs, 'command'> {
  return {
    json: false,
    help: false,
    allowDrift: false,
    check: false,
    embedded: false,
    envFiles: [],
    roundtrip: false,
    requireDown: false,
  }
}

type ParsedValues = {
  -readonly [K in CliFlag]?: (typeof CLI_FLAGS)[K] extends { multiple: true }
    ? string[]
    : (typeof CLI_FLAGS)[K]['type'] extends 'string'
      ? string
      : boolean
}

// node:util's parseArgs in non-strict mode, for its tokens: its strict-mode messages are
// written for a program's own options (and quote unevenly), so the checks are made here.
function parse(argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  const { tokens } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: CLI_FLAGS,
  })
  const values: Record<string, string | boolean | string[]> = {}
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value)
    if (token.kind !== 'option') continue
    const spec = (CLI_FLAGS as Record<string, { type: string; multiple?: boolean }>)[token.name]
    if (!spec) throw new UsageError(`unknown flag "${token.rawName}"`)
    if (spec.type === 'boolean') {
      if (token.value !== undefined)
        throw new UsageError(`--${token.name} takes no value (got "${token.rawName}=${token.value}")`)
      values[token.name] = true
      continue
    }
    if (token.value === undefined)
      throw new UsageError(`--${token.name} needs a value, e.g. --${token.name} ${example(token.name)}`)
    if (spec.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value]
    else values[token.name] = token.value
  }
  return { values: values as ParsedValues, positionals }
}

function example(flag: string): string {
  switch (flag) {
    case 'url':
      return 'postgres://user@host:5432/db'
    case 'dir':
      return 'migrations'
    case 'env-file':
      return '.env.production'
    case 'to':
      return '3'
    default:
      return '10000'
  }
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} needs a whole number (milliseconds for timeouts, a version for --to), got "${value}"`)
  }
  return Number(value)
}
