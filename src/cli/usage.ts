import { FLAG_COMMANDS, type CliCommand, type CliFlag } from './parse-args.js'

/** The `--help` text. */
export const USAGE = `Usage: wukong-migrate <command> [flags]

Keeps a PostgreSQL database up to date from numbered SQL files (NNN_name.sql).

Commands:
  migrate, up          apply every pending file, each in its own transaction
  status               where the database stands: applied, pending, drifted, missing
  down [--to N]        revert the last applied file (or every file above N; 0 = all,
                       a 000_ file included) with its NNN_name.down.sql
  create <name>        write the next NNN_name.sql from a commented template
  plan                 the files and statements migrate would run; changes nothing
  verify               check the folder offline: names, numbering, SQL syntax,
                       directives (no database needed; for CI)
  verify --roundtrip [--require-down]
                       prove the down files on a scratch database: each one must
                       restore the schema its up file found, and the up file must
                       then rebuild the same schema
  diff [--shadow-url <url>]
                       compare the database's schema with what its applied files
                       build (in a shadow database); reads the database only
  help [<command>]     this text, or a command's flags and an example

Flags:
  --url <url>          the database (default: POSTGRES_URL_NON_POOLING, POSTGRES_URL,
                       POSTGRES_PRISMA_URL, DATABASE_URL, else the embedded PGlite
                       database in WUKONG_PGLITE_DIR or .wukong/pglite)
  --embedded           use the embedded PGlite database, whatever the environment holds
  --dir <folder>       the migration files (default: WUKONG_MIGRATIONS_DIR, else the
                       package's migrations/)
  --env-file <path>    read variables from this file instead of .env and .env.local
                       (repeatable; variables already set win)
  --json               print one JSON document (shape: docs/json-output.md)
  --check              status: exit 3 unless the database is up to date
  --shadow-url <url>   diff, verify --roundtrip: an empty database to build schemas in
                       (default: a database created on the same server and dropped)
  --require-down       verify --roundtrip: fail on files without a down file
  --to <N>             down: revert every file above version N (0: every file)
  --allow-drift        migrate even though applied files were edited or are gone
  --lock-timeout <ms>  how long a statement, or a read of the ledger, may wait for a
                       table lock (default 10000; 0 = forever)
  --lock-wait-timeout <ms>
                       how long to wait for another migrator to finish (default 300000;
                       0 = forever)
  --connect-timeout <ms>
                       how long to wait for a connection (default 30000; the URL's
                       connect_timeout wins; 0 = forever)
  --statement-timeout <ms>
                       how long a statement may run (default 0 = no limit)
  --busy-timeout <ms>  the embedded database: how long to wait for another process
                       to close it (default WUKONG_PGLITE_BUSY_TIMEOUT_MS, else 10000;
                       0 = fail at once)
  -h, --help           this text (after a command: that command's flags)
  -v, --version        the package's version

Files (only *.sql names are read; other files are ignored):
  NNN_name.sql, NNN_name.down.sql   every file with the same number of digits;
                       version 000 is allowed, and down --to 0 reverts it too
  -- wukong:no-transaction   (a line at the top) run the file outside a transaction
  -- wukong:own-timeouts     (a line at the top) let the file SET its own lock_timeout
                       and statement_timeout; otherwise such statements are refused
  A file's SET and set_config() last only for that file. A file may not write the
  ledgers (schema_versions, kysely_migration) or release advisory locks.

Exit codes:
  0  done
  1  a migration, a migration file, or the connection failed
  2  the command line is wrong
  3  status --check: pending, drifted or missing migrations;
     diff: the database differs from what its applied files build

Environment (also read from .env and .env.local in the working directory):
  POSTGRES_URL_NON_POOLING, POSTGRES_URL, POSTGRES_PRISMA_URL, DATABASE_URL
                       the database, first set wins; with none set where NODE_ENV=production,
                       VERCEL_ENV or VERCEL=1, commands fail (NO_DATABASE_URL) unless --embedded
  WUKONG_PGLITE_DIR    the embedded database's folder
  WUKONG_PGLITE_BUSY_TIMEOUT_MS  see --busy-timeout
  WUKONG_MIGRATIONS_DIR  the migration folder when --dir is not given
  NO_COLOR             no colour (colour is only ever used on a terminal)
  FORCE_COLOR          colour even when not on a terminal (0 or false: never)

More: docs/cli.md in the package.
`

type HelpCommand = Exclude<CliCommand, 'help' | 'version'>

const COMMAND_HELP: Readonly<
  Record<HelpCommand, { readonly synopsis: string; readonly what: string; readonly example: string }>
> = {
  migrate: {
    synopsis: 'wukong-migrate migrate [flags]   (alias: up)',
    what: 'Applies every pending file in order, each with its schema_versions row in one transaction.\nOn an up-to-date database this is one query.',
    example: 'DATABASE_URL=postgres://app@db.example.com/app wukong-migrate migrate',
  },
  status: {
    synopsis: 'wukong-migrate status [--check] [flags]',
    what: 'Every file and where it stands: applied, adopted, drifted, pending, missing.',
    example: 'wukong-migrate status --check || wukong-migrate migrate',
  },
  down: {
    synopsis: 'wukong-migrate down [--to N] [flags]',
    what: 'Reverts the last applied file with its NNN_name.down.sql (with --to N: every file above N).',
    example: 'wukong-migrate down --to 2',
  },
  create: {
    synopsis: 'wukong-migrate create <name> [flags]',
    what: 'Writes the next NNN_name.sql from a commented template. Needs no database.',
    example: 'wukong-migrate create add_session_tags --dir migrations',
  },
  plan: {
    synopsis: 'wukong-migrate plan [flags]',
    what: 'Lists the files and statements migrate would run, with their line numbers. Changes nothing.',
    example: 'wukong-migrate plan --url postgres://app@localhost:5432/app',
  },
  verify: {
    synopsis: 'wukong-migrate verify [flags]',
    what: 'Checks the folder offline (names, numbering, encoding, SQL syntax, directives); lists every problem. With --roundtrip, proves the down files on a scratch database.',
    example: 'wukong-migrate verify --dir migrations',
  },
  diff: {
    synopsis: 'wukong-migrate diff [flags]',
    what: "Compares the database's schema with what its applied files build in a shadow database. Reads the database only; exit 3 when they differ.",
    example: 'wukong-migrate diff --url postgres://app@localhost:5432/app',
  },
}

const FLAG_HELP: Readonly<Record<Exclude<CliFlag, 'help' | 'version'>, readonly [string, string]>> = {
  url: ['--url <url>', 'the database; overrides every environment variable'],
  embedded: ['--embedded', 'the embedded PGlite database, whatever the environment holds'],
  dir: ['--dir <folder>', "the migration files (default: WUKONG_MIGRATIONS_DIR, else the package's migrations/)"],
  'env-file': ['--env-file <path>', 'read variables from this file instead of .env and .env.local (repeatable)'],
  json: ['--json', 'print one JSON document on stdout (docs/json-output.md)'],
  check: ['--check', 'exit 3 unless the database is up to date'],
  to: ['--to <N>', 'revert every file above version N (0: all)'],
  'allow-drift': ['--allow-drift', 'go on although applied files were edited or are gone'],
  'lock-timeout': ['--lock-timeout <ms>', 'how long a statement may wait for a lock (default 10000; 0 = forever)'],
  'lock-wait-timeout': ['--lock-wait-timeout <ms>', "how long to wait for another migrator's lock (default 300000)"],
  'connect-timeout': ['--connect-timeout <ms>', 'how long to wait for a connection (default 30000; 0 = forever)'],
  'statement-timeout': ['--statement-timeout <ms>', 'how long a statement may run (default 0 = no limit)'],
  'shadow-url': [
    '--shadow-url <url>',
    'an empty database to build the expected schema in (default: one created and dropped)',
  ],
  roundtrip: ['--roundtrip', 'verify: prove every down file on a scratch database'],
  'require-down': ['--require-down', 'verify --roundtrip: fail on files without a down file'],
  'busy-timeout': [
    '--busy-timeout <ms>',
    'how long to wait for another process to close the embedded database (default 10000)',
  ],
}

/**
 * The help of one command: what it does, the flags it takes (exactly those the parser accepts
 * for it) and an example.
 */
export function commandUsage(command: HelpCommand): string {
  const { synopsis, what, example } = COMMAND_HELP[command]
  const flags = (Object.keys(FLAG_HELP) as (keyof typeof FLAG_HELP)[])
    .filter((flag) => FLAG_COMMANDS[flag]?.includes(command) ?? true)
    .map((flag) => FLAG_HELP[flag])
  const width = Math.max(...flags.map(([name]) => name.length)) + 2
  return [
    `Usage: ${synopsis}`,
    '',
    what,
    '',
    'Flags:',
    ...flags.map(([name, text]) => `  ${name.padEnd(width)}${text}`),
    `  ${'-h, --help'.padEnd(width)}this text`,
    '',
    'Example:',
    `  ${example}`,
    '',
  ].join('\n')
}
