import { DATABASE_URL_VARIABLES } from '../connect/resolve-database-url.js'

// The flags, apart from the commands so that CliArgs can be derived from them without a cycle.

/**
 * What a flag's value is: its placeholder in help, an example for error messages, and for
 * numbers the accepted range. 2147483647 bounds every number: PostgreSQL's timeouts and
 * versions are 32-bit integers, and Node's timers stop at the same value.
 */
export const VALUE_KINDS = {
  url: { placeholder: '<url>', example: 'postgres://user@host:5432/db' },
  folder: { placeholder: '<folder>', example: 'migrations' },
  file: { placeholder: '<path>', example: '.env.production' },
  ms: { placeholder: '<ms>', example: '10000', max: 2_147_483_647, unit: 'milliseconds' },
  version: { placeholder: '<N>', example: '3', max: 2_147_483_647, unit: 'a version' },
  schema: { placeholder: '<schema>', example: 'app_migrations' },
  level: { placeholder: '<level>', example: 'warning', choices: ['warning', 'error'] },
} as const satisfies Record<
  string,
  { placeholder: string; example: string; max?: number; unit?: string; choices?: readonly string[] }
>

/** One flag, declared once: parsing, `--help`, usage errors and docs/cli.md all read this. */
export interface FlagSpec {
  /** The `CliArgs` field it sets; `--version` sets none (it is a command of its own). */
  readonly key?: string
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
    env: DATABASE_URL_VARIABLES.join(', '),
    default: 'the embedded database, only when no URL variable is set',
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
  'ledger-schema': {
    key: 'ledgerSchema',
    value: 'schema',
    env: 'WUKONG_LEDGER_SCHEMA',
    default: "the package's ledgers, wherever they are (a new database: public)",
    help: "a migration set of its own: these files' ledgers live in this schema, apart from the package's",
  },
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
  'fail-on': {
    key: 'failOn',
    value: 'level',
    default: 'error',
    help: 'lint: exit 3 when a finding no directive allows is at this level (warning or error) or above',
  },
  help: { key: 'help', short: 'h', help: "this text (after a command: that command's flags and an example)" },
  version: { short: 'v', help: "the package's version (no command)" },
} as const satisfies Record<string, FlagSpec>

/** A flag's name, without the dashes. */
export type CliFlag = keyof typeof FLAGS
