import type { CliArgs, CliCommand, CommandContext, CommandResult } from './command-context.js'
import { createCommand } from './commands/create.js'
import { diffCommand } from './commands/diff.js'
import { downCommand } from './commands/down.js'
import { migrateCommand } from './commands/migrate.js'
import { planCommand } from './commands/plan.js'
import { statusCommand } from './commands/status.js'
import { verifyCommand } from './commands/verify.js'

/**
 * What a flag's value is: its placeholder in help, an example for error messages, and for
 * numbers the accepted range. `PG_INT_MAX` bounds every number: PostgreSQL's timeouts and
 * versions are 32-bit integers, and Node's timers stop at the same value.
 */
export const VALUE_KINDS = {
  url: { placeholder: '<url>', example: 'postgres://user@host:5432/db' },
  folder: { placeholder: '<folder>', example: 'migrations' },
  file: { placeholder: '<path>', example: '.env.production' },
  ms: { placeholder: '<ms>', example: '10000', max: 2_147_483_647, unit: 'milliseconds' },
  version: { placeholder: '<N>', example: '3', max: 2_147_483_647, unit: 'a version' },
} as const satisfies Record<string, { placeholder: string; example: string; max?: number; unit?: string }>

/** One flag, declared once: parsing, `--help`, usage errors and docs/cli.md all read this. */
export interface FlagSpec {
  /** The `CliArgs` field it sets; `--version` sets none (it is a command of its own). */
  readonly key?: keyof CliArgs
  readonly short?: string
  /** Absent for a switch. */
  readonly value?: keyof typeof VALUE_KINDS
  /** May be given more than once; the values are kept in order. */
  readonly multiple?: boolean
  /** The environment variable(s) used when the flag is not given. */
  readonly env?: string
  readonly default?: string
  readonly help: string
}

/** Every flag, in the order help lists them. */
export const FLAGS = {
  url: {
    key: 'url',
    value: 'url',
    env: 'POSTGRES_URL_NON_POOLING, POSTGRES_URL, POSTGRES_PRISMA_URL, DATABASE_URL',
    default: 'the embedded database (see Environment)',
    help: 'the database; overrides every environment variable',
  },
  embedded: {
    key: 'embedded',
    help: 'the embedded PGlite database, whatever the environment holds (also in production)',
  },
  dir: {
    key: 'dir',
    value: 'folder',
    env: 'WUKONG_MIGRATIONS_DIR',
    default: "the package's migrations/",
    help: 'the migration files',
  },
  'env-file': {
    key: 'envFiles',
    value: 'file',
    multiple: true,
    default: '.env, then .env.local',
    help: 'read variables from this file instead (repeatable; a later file wins; variables already set win over all)',
  },
  json: { key: 'json', help: 'print exactly one JSON document on stdout (docs/json-output.md)' },
  check: { key: 'check', help: 'exit 3 unless the database is up to date' },
  to: {
    key: 'to',
    value: 'version',
    default: 'the version below the last applied',
    help: 'revert every file above version N (0: all, a 000_ file included)',
  },
  'allow-drift': { key: 'allowDrift', help: 'go on although applied files were edited or are gone' },
  'shadow-url': {
    key: 'shadowUrl',
    value: 'url',
    default: 'a database created on the same server, dropped afterwards',
    help: 'an empty database to build the expected schema in',
  },
  roundtrip: { key: 'roundtrip', help: 'prove every down file on a scratch database' },
  'require-down': { key: 'requireDown', help: 'with --roundtrip: fail on files without a down file' },
  'lock-timeout': {
    key: 'lockTimeoutMs',
    value: 'ms',
    default: '10000',
    help: 'how long a statement, or a read of the ledger, may wait for a table lock (0 = forever)',
  },
  'lock-wait-timeout': {
    key: 'lockWaitTimeoutMs',
    value: 'ms',
    default: '300000',
    help: 'how long to wait for another migrator to finish (0 = forever)',
  },
  'connect-timeout': {
    key: 'connectTimeoutMs',
    value: 'ms',
    default: "30000; the URL's connect_timeout wins",
    help: 'how long to wait for a connection (0 = forever)',
  },
  'statement-timeout': {
    key: 'statementTimeoutMs',
    value: 'ms',
    default: '0',
    help: 'how long a statement may run (0 = no limit)',
  },
  'busy-timeout': {
    key: 'busyTimeoutMs',
    value: 'ms',
    env: 'WUKONG_PGLITE_BUSY_TIMEOUT_MS',
    default: '10000',
    help: 'the embedded database: how long to wait for another process to close it (0 = fail at once)',
  },
  help: { key: 'help', short: 'h', help: "this text (after a command: that command's flags and an example)" },
  version: { short: 'v', help: "the package's version (no command)" },
} as const satisfies Record<string, FlagSpec>

/** A flag's name, without the dashes. */
export type CliFlag = keyof typeof FLAGS

/** Flags every command takes. */
export const COMMON_FLAGS: readonly CliFlag[] = ['dir', 'env-file', 'json', 'help']

/** One command, declared once. */
export interface CommandSpec {
  readonly name: Exclude<CliCommand, 'version'>
  readonly aliases?: readonly string[]
  /** What follows the name in the synopsis (its operand, or its main flag). */
  readonly synopsis?: string
  readonly summary: string
  /** The paragraph of `<command> --help`. */
  readonly detail: string
  readonly example: string
  /** Whether it opens a database; a flag name: only when that flag is given. */
  readonly database: boolean | CliFlag
  /** Flags beyond {@link COMMON_FLAGS}. */
  readonly flags: readonly CliFlag[]
  /** Flags that mean something only beside another flag of this command. */
  readonly onlyWith?: { readonly flag: CliFlag; readonly flags: readonly CliFlag[]; readonly why: string }
  /** Absent for `help`, which run-cli answers itself. */
  readonly run?: (ctx: CommandContext) => Promise<CommandResult>
}

const WAITS: readonly CliFlag[] = ['connect-timeout', 'busy-timeout']

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'migrate',
    aliases: ['up'],
    summary: 'apply every pending file, each in its own transaction',
    detail:
      'Applies every pending file in order, each with its schema_versions row in one transaction. On an up-to-date database this is one query.',
    example: 'DATABASE_URL=postgres://app@db.example.com/app wukong-migrate migrate',
    database: true,
    flags: ['url', 'embedded', 'allow-drift', 'lock-timeout', 'lock-wait-timeout', 'statement-timeout', ...WAITS],
    run: migrateCommand,
  },
  {
    name: 'status',
    synopsis: '[--check]',
    summary: 'where the database stands: applied, adopted, pending, drifted, missing',
    detail: 'Every file and where it stands: applied, adopted, drifted, pending, missing. Reads only.',
    example: 'wukong-migrate status --check || wukong-migrate migrate',
    database: true,
    flags: ['url', 'embedded', 'check', 'lock-timeout', ...WAITS],
    run: statusCommand,
  },
  {
    name: 'down',
    synopsis: '[--to N]',
    summary: 'revert the last applied file (or every file above N) with its NNN_name.down.sql',
    detail: 'Reverts the last applied file with its NNN_name.down.sql (with --to N: every file above N; 0: all).',
    example: 'wukong-migrate down --to 2',
    database: true,
    flags: ['url', 'embedded', 'to', 'allow-drift', 'lock-timeout', 'lock-wait-timeout', 'statement-timeout', ...WAITS],
    run: downCommand,
  },
  {
    name: 'create',
    synopsis: '<name>',
    summary: 'write the next NNN_name.sql from a commented template',
    detail:
      'Writes the next NNN_name.sql from a commented template; the name becomes lower-case words joined by underscores. Needs no database.',
    example: 'wukong-migrate create "add session tags" --dir migrations',
    database: false,
    flags: [],
    run: createCommand,
  },
  {
    name: 'plan',
    summary: 'the files and statements migrate would run; changes nothing',
    detail: 'Lists the files and statements migrate would run, with their line numbers. Changes nothing.',
    example: 'wukong-migrate plan --url postgres://app@localhost:5432/app',
    database: true,
    flags: ['url', 'embedded', 'allow-drift', 'lock-timeout', ...WAITS],
    run: planCommand,
  },
  {
    name: 'verify',
    synopsis: '[--roundtrip [--require-down]]',
    summary: 'check the folder offline (names, numbering, SQL syntax, directives); --roundtrip proves the down files',
    detail:
      'Checks the folder offline (names, numbering, encoding, SQL syntax, directives) and lists every problem; needs no database (for CI). With --roundtrip, proves the down files on a scratch database: each must restore the schema its up file found, and the up file must then rebuild the same schema.',
    example: 'wukong-migrate verify --dir migrations',
    database: 'roundtrip',
    flags: ['roundtrip', 'require-down', 'url', 'embedded', 'shadow-url'],
    onlyWith: {
      flag: 'roundtrip',
      flags: ['require-down', 'url', 'embedded', 'shadow-url'],
      why: 'plain verify reads no database',
    },
    run: verifyCommand,
  },
  {
    name: 'diff',
    synopsis: '[--shadow-url <url>]',
    summary: "compare the database's schema with what its applied files build; reads only",
    detail:
      "Compares the database's schema with what its applied files build in a shadow database. Reads the database only; exit 3 when they differ.",
    example: 'wukong-migrate diff --url postgres://app@localhost:5432/app',
    database: true,
    flags: ['url', 'embedded', 'shadow-url'],
    run: diffCommand,
  },
  {
    name: 'help',
    synopsis: '[<command>]',
    summary: "this text, or a command's flags and an example",
    detail: "The usage text, or one command's flags and an example (also -h, --help; <command> --help).",
    example: 'wukong-migrate help migrate',
    database: false,
    flags: [],
  },
]

/** The command a word names (a name or an alias); undefined for anything else. */
export function commandNamed(word: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word))
}

/** The flags a command takes, common ones last. */
export function flagsOf(command: CommandSpec): readonly CliFlag[] {
  return [...command.flags, ...COMMON_FLAGS]
}

/** The commands that take a flag; undefined for a flag every command takes. */
export function commandsTaking(flag: CliFlag): readonly string[] | undefined {
  if (COMMON_FLAGS.includes(flag)) return undefined
  return COMMANDS.filter((c) => c.flags.includes(flag)).map((c) => c.name)
}

/** Whether a command opens a database with these arguments. */
export function opensDatabase(command: CommandSpec, args: CliArgs): boolean {
  const when = command.database
  return typeof when === 'boolean' ? when : Boolean(args[(FLAGS[when] as FlagSpec).key!])
}
