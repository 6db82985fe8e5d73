/** PostgreSQL's table lock levels (https://www.postgresql.org/docs/current/explicit-locking.html), weakest first. */
// biome-ignore format: a list of eight
export const LOCK_LEVELS = ['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE',
  'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'] as const

/** One of {@link LOCK_LEVELS}. */
export type LockLevel = (typeof LOCK_LEVELS)[number]

/** What a statement does to the table's rows while it holds its lock. */
export type LockEffect = 'rewrite' | 'scan' | 'none'

/** How bad a finding is; `--fail-on` picks the level that fails the run. */
export type LintLevel = 'warning' | 'error'

/** A rule: its default level, the lock it takes, what it does under it, why that hurts, and the safe form. */
export interface LintRuleInfo {
  readonly level: LintLevel
  readonly lock: LockLevel | null
  readonly effect: LockEffect
  readonly why: string
  readonly safe: string
}

const LATER = 'VALIDATE CONSTRAINT in a later file (SHARE UPDATE EXCLUSIVE: reads and writes go on)'
const GONE = 'in a later release, once no running code uses it'
const NO_TX = 'in a file whose first line is `-- wukong:no-transaction`'

// biome-ignore format: one rule per entry: level, lock, effect; why it hurts; the safe form.
const TABLE = {
  'index-not-concurrent': ['error', 'SHARE', 'scan',
    'builds an index without CONCURRENTLY: INSERT, UPDATE and DELETE wait until the whole table is read',
    `CREATE [UNIQUE] INDEX CONCURRENTLY ${NO_TX}; for a key, then ADD CONSTRAINT … USING INDEX`],
  'drop-index-not-concurrent': ['warning', 'ACCESS EXCLUSIVE', 'none',
    'DROP INDEX without CONCURRENTLY queues behind running queries, and every new query queues behind it',
    `DROP INDEX CONCURRENTLY ${NO_TX}`],
  'fk-not-valid': ['error', 'SHARE ROW EXCLUSIVE', 'scan',
    'adds a foreign key and checks every row at once: writes to both tables wait for the check',
    `ADD CONSTRAINT … FOREIGN KEY … NOT VALID here; ${LATER}`],
  'check-not-valid': ['error', 'ACCESS EXCLUSIVE', 'scan',
    'adds a CHECK constraint and checks every row at once: reads and writes wait for the check',
    `ADD CONSTRAINT … CHECK (…) NOT VALID here; ${LATER}`],
  'set-not-null': ['error', 'ACCESS EXCLUSIVE', 'scan',
    'SET NOT NULL reads every row to prove it, while reads and writes wait',
    `ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; ${LATER}; then SET NOT NULL (no scan)`],
  'column-type-rewrite': ['error', 'ACCESS EXCLUSIVE', 'rewrite',
    'changes a type without binary compatibility: the table and its indexes are rewritten, reads and writes wait',
    'add a column of the new type, backfill it in batches (varchar(n) → varchar(m ≥ n), varchar or text is free)'],
  'volatile-default': ['error', 'ACCESS EXCLUSIVE', 'rewrite',
    'adds a column computed per row (volatile default, serial, identity, generated): the table is rewritten',
    'ADD COLUMN without it (a constant or now() is free), then SET DEFAULT, and backfill old rows in batches'],
  'rename-column': ['warning', 'ACCESS EXCLUSIVE', 'none',
    'renames a column that running code may still use by its old name',
    `add the new column, write both, backfill, move the readers; drop the old one ${GONE}`],
  'rename-table': ['warning', 'ACCESS EXCLUSIVE', 'none',
    'renames a table that running code may still use by its old name',
    `rename it and CREATE VIEW <old name> AS SELECT * FROM <new name>; drop the view ${GONE}`],
  'drop-column': ['warning', 'ACCESS EXCLUSIVE', 'none',
    'drops a column that running code may still read or write',
    `deploy code that no longer uses the column first; drop it ${GONE}`],
  'drop-table': ['warning', 'ACCESS EXCLUSIVE', 'none',
    'drops a table that running code may still use',
    `deploy code that no longer uses the table first; drop it ${GONE}`],
  'vacuum-full': ['error', 'ACCESS EXCLUSIVE', 'rewrite',
    'VACUUM FULL rewrites the table while reads and writes wait',
    'plain VACUUM (it blocks neither reads nor writes), or pg_repack'],
  cluster: ['error', 'ACCESS EXCLUSIVE', 'rewrite',
    'CLUSTER rewrites the table in index order while reads and writes wait',
    'pg_repack --order-by, outside the migration'],
  'lock-table': ['error', 'ACCESS EXCLUSIVE', 'none',
    'LOCK TABLE blocks writes (or everything) until the file commits',
    "leave it to each statement to take its own lock, bounded by the runner's lock_timeout"],
  'backfill-with-ddl': ['error', 'ROW EXCLUSIVE', 'scan',
    "changes rows in the same transaction as DDL: the DDL's locks are held until the whole backfill commits",
    'move the backfill to a file of its own (in batches), so that the DDL commits and releases its locks first'],
  'allow-without-reason': ['error', null, 'none',
    'a `-- wukong:allow` directive must say why the statement is safe here',
    '-- wukong:allow <rule> <why it is safe here>'],
  'allow-unused': ['warning', null, 'none',
    'a `-- wukong:allow` directive acknowledges no finding of the statement below it',
    'delete it, or name the rule that the statement below it breaks'],
} as const satisfies Record<string, readonly [LintLevel, LockLevel | null, LockEffect, string, string]>

/** A rule's stable code. */
export type LintRule = keyof typeof TABLE

/** Every rule of `wukong-migrate lint`, by its stable code (docs/lint.md). */
export const LINT_RULES = Object.fromEntries(
  Object.entries(TABLE).map(([code, [level, lock, effect, why, safe]]) => [code, { level, lock, effect, why, safe }]),
) as Record<LintRule, LintRuleInfo>
