/**
 * The `--help` text.
 *
 * @example
 * ```ts
 * process.stdout.write(USAGE)
 * ```
 */
export const USAGE = `Usage: wukong-migrate <command> [flags]

Keeps a PostgreSQL database up to date from numbered SQL files (NNN_name.sql).

Commands:
  migrate, up          apply every pending file, each in its own transaction
  status               where the database stands: applied, pending, drifted, missing
  down [--to N]        revert the last applied file (or every file above N; 0 = all)
                       with its NNN_name.down.sql
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
  help                 this text

Flags:
  --url <url>          the database (default: POSTGRES_URL_NON_POOLING, POSTGRES_URL,
                       POSTGRES_PRISMA_URL, else the embedded PGlite database in
                       WUKONG_PGLITE_DIR or .wukong/pglite)
  --dir <folder>       the migration files (default: WUKONG_MIGRATIONS_DIR, else the
                       package's migrations/)
  --json               print one JSON document (shape: docs/cli.md, "version": 1)
  --check              status: exit 3 unless the database is up to date
  --shadow-url <url>   diff, verify --roundtrip: an empty database to build schemas in
                       (default: a database created on the same server and dropped)
  --require-down       verify --roundtrip: fail on files without a down file
  --to <N>             down: revert every file above version N
  --allow-drift        migrate even though applied files were edited or are gone
  --lock-timeout <ms>  how long a statement may wait for a lock (default 10000; 0 = forever)
  --statement-timeout <ms>
                       how long a statement may run (default 0 = no limit)
  -h, --help           this text

Exit codes:
  0  done
  1  a migration, a migration file, or the connection failed
  2  the command line is wrong
  3  status --check: pending, drifted or missing migrations;
     diff: the database differs from what its applied files build

Environment:
  POSTGRES_URL_NON_POOLING, POSTGRES_URL, POSTGRES_PRISMA_URL   the database, first set wins
  WUKONG_PGLITE_DIR    the embedded database's folder
  WUKONG_MIGRATIONS_DIR  the migration folder when --dir is not given
  NO_COLOR             no colour (colour is only ever used on a terminal)
  FORCE_COLOR          colour even when not on a terminal (0 or false: never)
`
