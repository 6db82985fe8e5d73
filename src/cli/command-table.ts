import type { CliArgs, CommandContext, CommandName, CommandResult } from './command-context.js'
import { type CliFlag, FLAGS, type FlagSpec } from './flag-table.js'

const COMMON_FLAGS: readonly CliFlag[] = ['dir', 'env-file', 'json', 'help']

/** One command, declared once: parsing, `--help` and docs/cli.md all read it. */
export interface CommandSpec {
  readonly name: CommandName
  readonly aliases?: readonly string[]
  readonly synopsis?: string
  /** The first sentence is its line in the general help. */
  readonly detail: string
  readonly example: string
  readonly operands?: 'name' | 'files'
  /** A flag name: only when that flag is given. */
  readonly database: boolean | CliFlag
  readonly flags: readonly CliFlag[]
  /** Flags that mean something only beside another flag of this command. */
  readonly onlyWith?: { readonly flag: CliFlag; readonly flags: readonly CliFlag[]; readonly why: string }
  /** Absent for `help`, which run-cli answers itself; loaded on use, so `--help` loads no command. */
  readonly run?: (ctx: CommandContext) => Promise<CommandResult>
}

const WAITS: readonly CliFlag[] = ['connect-timeout', 'busy-timeout']
// biome-ignore format: the flags of the commands that write
const WRITES: readonly CliFlag[] = ['url', 'ledger-schema', 'embedded', 'allow-drift', 'lock-timeout', 'lock-wait-timeout',
  'statement-timeout', ...WAITS]

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'migrate',
    aliases: ['up'],
    detail:
      'Applies every pending file in order, each in its own transaction. A file commits with its schema_versions row; on an up-to-date database this is one query.',
    example: 'DATABASE_URL=postgres://app@db.example.com/app wukong-migrate migrate',
    database: true,
    flags: WRITES,
    run: (ctx) => import('./commands/migrate.js').then((m) => m.migrateCommand(ctx)),
  },
  {
    name: 'status',
    synopsis: '[--check]',
    detail:
      'Shows where the database stands: applied, adopted, pending, drifted, missing. Reads only; with --check, exits 3 unless the database is up to date.',
    example: 'wukong-migrate status --check || wukong-migrate migrate',
    database: true,
    flags: ['url', 'ledger-schema', 'embedded', 'check', 'lock-timeout', ...WAITS],
    run: (ctx) => import('./commands/status.js').then((m) => m.statusCommand(ctx)),
  },
  {
    name: 'down',
    synopsis: '[--to N]',
    detail: 'Reverts the last applied file with its NNN_name.down.sql. With --to N: every file above N (0: all).',
    example: 'wukong-migrate down --to 2',
    database: true,
    flags: ['to', ...WRITES],
    run: (ctx) => import('./commands/down.js').then((m) => m.downCommand(ctx)),
  },
  {
    name: 'create',
    synopsis: '<name>',
    detail:
      'Writes the next NNN_name.sql from a commented template. The name becomes lower-case words joined by underscores; needs no database.',
    example: 'wukong-migrate create "add session tags" --dir migrations',
    operands: 'name',
    database: false,
    flags: [],
    run: (ctx) => import('./commands/create.js').then((m) => m.createCommand(ctx)),
  },
  {
    name: 'plan',
    detail:
      "Lists the files and statements migrate would run; changes nothing. Each statement comes with its line number, and the linter's findings on those files are warnings, as in verify.",
    example: 'wukong-migrate plan --url postgres://app@localhost:5432/app',
    database: true,
    flags: ['url', 'ledger-schema', 'embedded', 'allow-drift', 'lock-timeout', ...WAITS],
    run: (ctx) => import('./commands/plan.js').then((m) => m.planCommand(ctx)),
  },
  {
    name: 'verify',
    synopsis: '[--roundtrip [--require-down]]',
    detail:
      'Checks the folder offline: names, numbering, encoding, SQL syntax, directives. Lists every problem and needs no database (for CI). With --roundtrip, proves the down files on a scratch database: each must restore the schema its up file found, and the up file must then rebuild the same schema.',
    example: 'wukong-migrate verify --dir migrations',
    database: 'roundtrip',
    flags: ['roundtrip', 'require-down', 'url', 'embedded', 'shadow-url'],
    onlyWith: {
      flag: 'roundtrip',
      flags: ['require-down', 'url', 'embedded', 'shadow-url'],
      why: 'plain verify reads no database',
    },
    run: (ctx) => import('./commands/verify.js').then((m) => m.verifyCommand(ctx)),
  },
  {
    name: 'diff',
    synopsis: '[--shadow-url <url>]',
    detail:
      "Compares the database's schema with what its applied files build; reads only. The files are built in a shadow database; exit 3 when the schemas differ.",
    example: 'wukong-migrate diff --url postgres://app@localhost:5432/app',
    database: true,
    flags: ['url', 'embedded', 'shadow-url'],
    run: (ctx) => import('./commands/diff.js').then((m) => m.diffCommand(ctx)),
  },
  {
    name: 'lint',
    synopsis: '[<file>…]',
    detail:
      "Lists the statements that would block a live app: the lock each takes, on which table, whether it rewrites or scans it, and the safe form (docs/lint.md). Offline: the folder's files, or the ones named; with --url, the pending files, ranked by their tables' size. Exit 3 at --fail-on or above.",
    example: 'wukong-migrate lint --url postgres://app@localhost:5432/app',
    operands: 'files',
    database: 'url',
    flags: ['url', 'ledger-schema', 'fail-on'],
    run: (ctx) => import('./commands/lint.js').then((m) => m.lintCommand(ctx)),
  },
  {
    name: 'help',
    synopsis: '[<command>]',
    detail: "Prints this text, or a command's flags and an example. Also -h, --help, and <command> --help.",
    example: 'wukong-migrate help migrate',
    database: false,
    flags: [],
  },
]

export function commandNamed(word: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word))
}

export function flagsOf(command: CommandSpec): readonly CliFlag[] {
  return [...command.flags, ...COMMON_FLAGS]
}

/** Undefined for a flag every command takes. */
export function commandsTaking(flag: CliFlag): readonly string[] | undefined {
  if (COMMON_FLAGS.includes(flag)) return undefined
  return COMMANDS.filter((c) => c.flags.includes(flag)).map((c) => c.name)
}

export function opensDatabase(command: CommandSpec, args: CliArgs): boolean {
  const when = command.database
  return typeof when === 'boolean' ? when : Boolean(args[(FLAGS[when] as FlagSpec).key as keyof CliArgs])
}
