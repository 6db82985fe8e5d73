import type { ExpectedFile } from './ledger-invariants.js'

/**
 * Six transactional files with slow statements before, between and after their DDL, so that a
 * kill or a dropped connection at a random instant often lands inside a file. Each file
 * creates `tN` and records its run in side_effects; 006 writes its own ledger row, as files
 * of the old runner did.
 */
export const SLOW_FILES: Readonly<Record<string, string>> = Object.freeze({
  '001_side_effects.sql':
    'create table side_effects (version int not null);\ncreate table t1 (id int primary key);\ninsert into side_effects values (1);\n',
  '002_sleep_first.sql':
    'select pg_sleep(0.08);\ncreate table t2 (id int primary key);\ninsert into side_effects values (2);\n',
  '003_sleep_last.sql':
    'create table t3 (id int primary key);\ninsert into side_effects values (3);\nselect pg_sleep(0.08);\n',
  '004_sleep_between.sql':
    'create table t4 (id int primary key);\nselect pg_sleep(0.05);\ninsert into side_effects values (4);\nselect pg_sleep(0.05);\n',
  '005_function.sql':
    'create table t5 (id int primary key, n int);\ncreate function t5_bump() returns int language sql as $$ update t5 set n = n + 1 returning n $$;\ninsert into side_effects values (5);\nselect pg_sleep(0.03);\n',
  '006_own_row.sql':
    "create table t6 (id int);\ninsert into side_effects values (6);\ninsert into schema_versions (version, description) values (6, 'Own row');\n",
})

/** What each of {@link SLOW_FILES} creates. */
export const SLOW_EXPECTED: readonly ExpectedFile[] = Object.keys(SLOW_FILES).map((f, i) => ({
  version: i + 1,
  name: f.replace(/\.sql$/, ''),
  creates: `t${i + 1}`,
}))
