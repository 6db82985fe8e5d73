import { DATABASE_URL_VARIABLES } from '../connect/resolve-database-url.js'
import type { CommandName } from './command-context.js'
import { type CommandSpec, COMMANDS, commandNamed, commandsTaking, flagsOf } from './command-table.js'
import { type CliFlag, FLAGS, type FlagSpec, VALUE_KINDS } from './flag-table.js'

const WIDTH = 92
const COLUMN = 24

// What the table does not hold: the file conventions, the exit codes, the other variables.
const TRAILER = `Files (only *.sql names are read; other files are ignored):
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
  ${DATABASE_URL_VARIABLES.join(', ')}
                        the database, first non-empty one wins; set but all empty: an error,
                        never the embedded database; with none set where NODE_ENV=production,
                        VERCEL_ENV or VERCEL=1, commands fail (NO_DATABASE_URL) unless --embedded
  WUKONG_PGLITE_DIR     the embedded database's folder (default .wukong/pglite)
  NO_COLOR              no colour (colour is only ever used on a terminal)
  FORCE_COLOR           colour even when not on a terminal (0 or false: never)

More: docs/cli.md in the package.
`

/** The `--help` text, from the command table. */
export const USAGE = [
  'Usage: wukong-migrate <command> [flags]',
  '',
  'Keeps a PostgreSQL database up to date from numbered SQL files (NNN_name.sql).',
  '',
  'Commands:',
  ...COMMANDS.flatMap((c) => row(commandTitle(c), c.detail.split('. ')[0]!.replace(/\.$/, ''))),
  '',
  'Flags:',
  ...(Object.keys(FLAGS) as CliFlag[]).flatMap((flag) => {
    const commands = commandsTaking(flag)
    return row(flagTitle(flag), `${flagText(flag)}${commands?.length ? ` [${commands.join(', ')}]` : ''}`)
  }),
  '',
  TRAILER,
].join('\n')

/** From the same table as the parser, so help lists exactly the flags it accepts. */
export function commandUsage(name: Exclude<CommandName, 'help'>): string {
  const command = commandNamed(name)!
  const alias = command.aliases ? `   (alias: ${command.aliases.join(', ')})` : ''
  return [
    `Usage: wukong-migrate ${[command.name, command.synopsis, '[flags]'].filter(Boolean).join(' ')}${alias}`,
    '',
    ...wrap(command.detail, 0),
    '',
    'Flags:',
    ...flagsOf(command).flatMap((flag) => row(flagTitle(flag), flagText(flag))),
    '',
    'Example:',
    `  ${command.example}`,
    '',
  ].join('\n')
}

/** `migrate, up` or `create <name>`: a command as help and docs/cli.md name it. */
export function commandTitle(command: CommandSpec): string {
  return [[command.name, ...(command.aliases ?? [])].join(', '), command.synopsis].filter(Boolean).join(' ')
}

/** `-h, --help` or `--lock-timeout <ms>`: a flag as help and docs/cli.md name it. */
export function flagTitle(flag: CliFlag): string {
  const spec: FlagSpec = FLAGS[flag]
  const value = spec.value ? ` ${VALUE_KINDS[spec.value].placeholder}` : ''
  return `${spec.short ? `-${spec.short}, ` : ''}--${flag}${value}`
}

function flagText(flag: CliFlag): string {
  const spec: FlagSpec = FLAGS[flag]
  const fallback = [spec.env && `env ${spec.env}`, spec.default && `default ${spec.default}`].filter(Boolean)
  return `${spec.help}${fallback.length ? ` (${fallback.join('; ')})` : ''}`
}

// A help row: the title, then the text wrapped at WIDTH in a column of its own.
function row(title: string, text: string): string[] {
  const lines = wrap(text, COLUMN)
  if (title.length + 4 <= COLUMN) return [`  ${title.padEnd(COLUMN - 2)}${lines[0]!.trimStart()}`, ...lines.slice(1)]
  return [`  ${title}`, ...lines]
}

function wrap(text: string, indent: number): string[] {
  const lines = ['']
  for (const word of text.split(' ')) {
    const last = lines.length - 1
    if (lines[last] && indent + lines[last].length + 1 + word.length > WIDTH) lines.push(word)
    else lines[last] = lines[last] ? `${lines[last]} ${word}` : word
  }
  return lines.map((l) => ' '.repeat(indent) + l)
}
