// The migration linter without a database: each rule against PostgreSQL's own parser, with a
// statement it must flag and one it must let through; directives; the package's own migrations.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { MigrationError } from '../src/errors/index.js'
import { type LintRule, LINT_RULES, lintFails, lintMigrationFiles, renderLintReport } from '../src/lint/index.js'
import { migrationFolder } from './support/folders.js'
import { runCliHere } from './support/run-cli-in-process.js'

const FIXTURES = join(import.meta.dirname, 'fixtures/lint')
const MIGRATIONS = join(import.meta.dirname, '../migrations')
const sqlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(dir, f))

/** Lints a throwaway folder: a string is one file, an array a run of files in order. */
async function lint(sql: string | readonly string[]) {
  const bodies = typeof sql === 'string' ? [sql] : sql
  const names = bodies.map((_, i) => `${String(i + 1).padStart(3, '0')}_step.sql`)
  const dir = await migrationFolder(Object.fromEntries(names.map((n, i) => [n, bodies[i]!])))
  return lintMigrationFiles(names.map((n) => join(dir, n)))
}
const rules = async (sql: string | readonly string[]): Promise<string[]> =>
  (await lint(sql)).findings.map((f) => f.rule)

const NO_TX = '-- wukong:no-transaction\n'
const CASES: readonly { rule: LintRule; flagged: string | string[]; fine: string | string[] }[] = [
  {
    rule: 'index-not-concurrent',
    flagged: 'CREATE INDEX i ON steps (a);',
    fine: `${NO_TX}CREATE INDEX CONCURRENTLY i ON steps (a);`,
  },
  {
    rule: 'index-not-concurrent',
    flagged: 'ALTER TABLE steps ADD CONSTRAINT u UNIQUE (a);',
    fine: 'ALTER TABLE steps ADD CONSTRAINT u UNIQUE USING INDEX i;',
  },
  { rule: 'drop-index-not-concurrent', flagged: 'DROP INDEX i;', fine: `${NO_TX}DROP INDEX CONCURRENTLY i;` },
  {
    rule: 'fk-not-valid',
    flagged: 'ALTER TABLE steps ADD CONSTRAINT f FOREIGN KEY (todo_id) REFERENCES todos (id);',
    fine: [
      'ALTER TABLE steps ADD CONSTRAINT f FOREIGN KEY (todo_id) REFERENCES todos (id) NOT VALID;',
      'ALTER TABLE steps VALIDATE CONSTRAINT f;',
    ],
  },
  {
    rule: 'fk-not-valid',
    flagged: 'ALTER TABLE steps ADD COLUMN todo_id int REFERENCES todos (id);',
    fine: 'ALTER TABLE steps ADD COLUMN todo_id int;',
  },
  {
    rule: 'check-not-valid',
    flagged: 'ALTER TABLE steps ADD CONSTRAINT c CHECK (n > 0);',
    fine: ['ALTER TABLE steps ADD CONSTRAINT c CHECK (n > 0) NOT VALID;', 'ALTER TABLE steps VALIDATE CONSTRAINT c;'],
  },
  {
    rule: 'set-not-null',
    flagged: 'ALTER TABLE steps ALTER COLUMN status SET NOT NULL;',
    fine: [
      'ALTER TABLE steps ADD CONSTRAINT s_nn CHECK (status IS NOT NULL) NOT VALID;',
      'ALTER TABLE steps VALIDATE CONSTRAINT s_nn;',
      'ALTER TABLE steps ALTER COLUMN status SET NOT NULL;\nALTER TABLE steps DROP CONSTRAINT s_nn;',
    ],
  },
  {
    rule: 'column-type-rewrite',
    flagged: ['CREATE TABLE steps (name varchar(50));', 'ALTER TABLE steps ALTER COLUMN name TYPE varchar(20);'],
    fine: ['CREATE TABLE steps (name varchar(50));', 'ALTER TABLE steps ALTER COLUMN name TYPE varchar(100);'],
  },
  {
    rule: 'column-type-rewrite',
    flagged: [
      'CREATE TABLE steps (name varchar(50));',
      'ALTER TABLE steps ALTER COLUMN name TYPE text USING upper(name);',
    ],
    fine: ['CREATE TABLE steps (name varchar(50));', 'ALTER TABLE steps ALTER COLUMN name TYPE text;'],
  },
  {
    rule: 'column-type-rewrite',
    flagged: 'ALTER TABLE steps ALTER COLUMN n TYPE bigint;',
    fine: 'ALTER TABLE steps ALTER COLUMN n SET DEFAULT 0;',
  },
  {
    rule: 'volatile-default',
    flagged: 'ALTER TABLE steps ADD COLUMN seen timestamptz DEFAULT clock_timestamp();',
    fine: 'ALTER TABLE steps ADD COLUMN seen timestamptz DEFAULT now();',
  },
  {
    rule: 'volatile-default',
    flagged: 'ALTER TABLE steps ADD COLUMN k uuid DEFAULT gen_random_uuid();',
    fine: "ALTER TABLE steps ADD COLUMN k text DEFAULT 'x';",
  },
  {
    rule: 'volatile-default',
    flagged: 'ALTER TABLE steps ADD COLUMN k bigserial;',
    fine: 'ALTER TABLE steps ADD COLUMN k bigint;',
  },
  {
    rule: 'volatile-default',
    flagged: "ALTER TABLE steps ADD COLUMN k int DEFAULT nextval('s');",
    fine: "ALTER TABLE steps ALTER COLUMN k SET DEFAULT nextval('s');",
  },
  {
    rule: 'rename-column',
    flagged: 'ALTER TABLE steps RENAME COLUMN a TO b;',
    fine: 'CREATE TABLE steps (a int);\nALTER TABLE steps RENAME COLUMN a TO b;',
  },
  {
    rule: 'rename-table',
    flagged: 'ALTER TABLE steps RENAME TO s2;',
    fine: 'CREATE TABLE steps (a int);\nALTER TABLE steps RENAME TO s2;',
  },
  {
    rule: 'drop-column',
    flagged: 'ALTER TABLE steps DROP COLUMN a;',
    fine: 'CREATE TABLE steps (a int, b int);\nALTER TABLE steps DROP COLUMN a;',
  },
  { rule: 'drop-table', flagged: 'DROP TABLE steps;', fine: 'CREATE TABLE steps (a int);\nDROP TABLE steps;' },
  { rule: 'vacuum-full', flagged: `${NO_TX}VACUUM FULL steps;`, fine: `${NO_TX}VACUUM (ANALYZE) steps;` },
  {
    rule: 'cluster',
    flagged: 'CLUSTER steps USING i;',
    fine: 'CREATE TABLE steps (a int);\nCREATE INDEX i ON steps (a);\nCLUSTER steps USING i;',
  },
  { rule: 'lock-table', flagged: 'LOCK TABLE steps;', fine: 'LOCK TABLE steps IN ROW EXCLUSIVE MODE;' },
  {
    rule: 'backfill-with-ddl',
    flagged: 'ALTER TABLE steps ADD COLUMN n int;\nUPDATE steps SET n = 1;',
    fine: ['ALTER TABLE steps ADD COLUMN n int;', 'UPDATE steps SET n = 1;'],
  },
  {
    rule: 'backfill-with-ddl',
    flagged: 'CREATE INDEX i ON steps (a);\nINSERT INTO archive SELECT * FROM steps;',
    fine: 'CREATE TABLE archive (a int);\nINSERT INTO archive SELECT a FROM steps;\nINSERT INTO steps (a) VALUES (1);',
  },
]

describe('each rule flags its statement and lets the safe form through', () => {
  for (const { rule, flagged, fine } of CASES) {
    it(`${rule}: ${[flagged].flat().at(-1)!.split('\n').at(-1)}`, async () => {
      const found = await rules(flagged)
      expect(found).toContain(rule)
      // The index build in the backfill case is a finding of its own.
      expect(found.filter((r) => r !== 'index-not-concurrent' || rule === r)).toEqual([rule])
      expect(await rules(fine)).toEqual([])
    })
  }

  it('every rule has a case, and every fixture file is flagged with the rule it is named after', async () => {
    const covered = new Set([...CASES.map((c) => c.rule), 'allow-without-reason', 'allow-unused'])
    expect([...covered].sort()).toEqual(Object.keys(LINT_RULES).sort())
    const report = await lintMigrationFiles(sqlFiles(FIXTURES))
    const byFile = new Map<string, string[]>()
    for (const f of report.findings) {
      const name = f.file.replace(/^.*\//, '').replace('.sql', '')
      byFile.set(name, [...(byFile.get(name) ?? []), f.rule])
    }
    expect([...byFile.keys()].sort()).toEqual(Object.keys(LINT_RULES).sort())
    for (const [name, found] of byFile) expect(found).toContain(name)
  })

  it('a type change of a column the run knows nothing of is a rewrite unless proven otherwise', async () => {
    const [f] = (await lint('ALTER TABLE steps ALTER COLUMN name TYPE varchar(100);')).findings
    expect(f).toMatchObject({ rule: 'column-type-rewrite', lock: 'ACCESS EXCLUSIVE', effect: 'rewrite' })
    expect(f!.message).toContain('from a type this run does not know')
  })

  it('knows tables only per file: one created by an earlier file may be full by now', async () => {
    expect(await rules(['CREATE TABLE t (a int);', 'CREATE INDEX i ON t (a);'])).toEqual(['index-not-concurrent'])
    expect(await rules('CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);')).toEqual([])
  })

  it('says where, which relation, which lock, what it does under it, and the safe form', async () => {
    const report = await lint('-- steps by creation time\nSELECT 1;\n\n  CREATE INDEX i ON app.steps (created_at);\n')
    expect(report.findings).toEqual([
      {
        rule: 'index-not-concurrent',
        level: 'error',
        file: expect.stringMatching(/001_step\.sql$/),
        line: 4,
        column: 3,
        relation: '"app"."steps"',
        lock: 'SHARE',
        effect: 'scan',
        message: LINT_RULES['index-not-concurrent'].why,
        safe: LINT_RULES['index-not-concurrent'].safe,
        allowed: null,
        size: null,
      },
    ])
    expect(report.summary).toEqual({ errors: 1, warnings: 0, allowed: 0 })
    expect(report.statements).toBe(2)
  })

  it('reports LOCK TABLE with the mode it asks for, and lets the weak modes through', async () => {
    const report = await lint('LOCK TABLE a IN SHARE ROW EXCLUSIVE MODE;\nLOCK TABLE b IN SHARE UPDATE EXCLUSIVE MODE;')
    expect(report.findings.map((f) => [f.relation, f.lock])).toEqual([['"a"', 'SHARE ROW EXCLUSIVE']])
  })

  it('reads a .down.sql file as a down file: it may delete its own ledger row', async () => {
    const dir = await migrationFolder({
      '007_tags.down.sql': 'DELETE FROM schema_versions WHERE version = 7;\nDROP TABLE tags;',
    })
    const report = await lintMigrationFiles([join(dir, '007_tags.down.sql')])
    expect(report.findings.map((f) => [f.rule, f.relation])).toEqual([['drop-table', '"tags"']])
  })

  it('drops of what is no relation (a type, a function, a schema) are no finding', async () => {
    const report = await lint('DROP TYPE mood;\nDROP FUNCTION f();\nDROP SCHEMA s;\nDROP TABLE tags;')
    expect(report.findings.map((f) => [f.rule, f.relation])).toEqual([['drop-table', '"tags"']])
  })

  it('refuses a file migrate refuses, with its MigrationError', async () => {
    const error = await lint('ALTER TABLE steps ADD COLUMN;').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect(error).toMatchObject({ code: 'SQL_SYNTAX_ERROR', line: 1 })
  })
})

describe('the package migrations', () => {
  it('lint clean: every statement on an existing table is concurrent, the rest is on tables the same file creates', async () => {
    const report = await lintMigrationFiles(sqlFiles(MIGRATIONS))
    expect(report.files).toHaveLength(5)
    expect(report.findings).toEqual([])
    expect(renderLintReport(report)).toBe('no findings in 5 files (61 statements)')
  })
})

describe('-- wukong:allow', () => {
  const drop = 'ALTER TABLE steps DROP COLUMN wait_strategy;'

  it('acknowledges the finding of its rule on the statement right below it, and keeps the reason', async () => {
    const report = await lint(
      `-- Release 42.\n-- wukong:allow drop-column  no code reads it since release 41\n${drop}\nALTER TABLE steps DROP COLUMN b;`,
    )
    expect(report.findings.map((f) => [f.rule, f.line, f.allowed])).toEqual([
      ['drop-column', 3, 'no code reads it since release 41'],
      ['drop-column', 4, null],
    ])
    expect(report.summary).toEqual({ errors: 0, warnings: 1, allowed: 1 })
    const text = renderLintReport(report)
    expect(text).toContain('allowed  drop-column')
    expect(text).toContain('allowed: no code reads it since release 41')
    expect(text.split('\n').at(-1)).toBe('1 warning, 1 allowed in 1 file (2 statements)')
  })

  it("works at the file's very top too, among the header directives migrate reads", async () => {
    const top = await lint(`-- wukong:allow drop-column no code reads it\n${drop}`)
    expect(top.findings.map((f) => f.allowed)).toEqual(['no code reads it'])
    const afterHeader = `-- wukong:no-transaction\n\n-- wukong:allow drop-column no code reads it\n${drop}`
    expect((await lint(afterHeader)).findings.map((f) => f.allowed)).toEqual(['no code reads it'])
  })

  it('without a reason is itself an error, and acknowledges nothing', async () => {
    const report = await lint(`SELECT 1;\n  -- wukong:allow drop-column\n${drop}`)
    expect(report.findings.map((f) => [f.rule, f.level, f.line, f.column, f.allowed])).toEqual([
      ['allow-without-reason', 'error', 2, 3, null],
      ['drop-column', 'warning', 3, 1, null],
    ])
    expect(lintFails(report, 'error')).toBe(true)
  })

  it('naming a rule the statement does not break is a warning', async () => {
    const report = await lint(`SELECT 1;\n-- wukong:allow drop-table the table is gone\n${drop}`)
    expect(report.findings.map((f) => [f.rule, f.level, f.allowed])).toEqual([
      ['allow-unused', 'warning', null],
      ['drop-column', 'warning', null],
    ])
  })
})

describe('failing and rendering', () => {
  it('fails at the chosen level: --fail-on error ignores warnings, --fail-on warning does not', async () => {
    const warningOnly = await lint('ALTER TABLE steps DROP COLUMN a;')
    expect([lintFails(warningOnly, 'error'), lintFails(warningOnly, 'warning')]).toEqual([false, true])
    const withError = await lint('CREATE INDEX i ON steps (a);')
    expect([lintFails(withError, 'error'), lintFails(withError, 'warning')]).toEqual([true, true])
  })

  it('prints one block per finding, in the palette given', async () => {
    const report = await lint('ALTER TABLE steps ADD CONSTRAINT f FOREIGN KEY (s) REFERENCES sessions (id);')
    const [head, message, safe, summary] = renderLintReport(report).split('\n')
    expect(head).toMatch(
      /001_step\.sql:1:1 {2}error {2}fk-not-valid {2}"steps" · SHARE ROW EXCLUSIVE lock, scans the table$/,
    )
    expect(message).toBe(`  ${LINT_RULES['fk-not-valid'].why} (constraint "f" → "sessions")`)
    expect(safe).toBe(`  safe: ${LINT_RULES['fk-not-valid'].safe}`)
    expect(summary).toBe('1 error in 1 file (1 statement)')
    const mark = (tag: string) => (text: string) => `<${tag}>${text}</${tag}>`
    const style = { bold: mark('b'), dim: mark('d'), red: mark('r'), yellow: mark('y') }
    expect(renderLintReport(report, { style }).split('\n')[0]).toContain('<r>error</r>  <b>fk-not-valid</b>')
  })
})

describe('wukong-migrate lint', () => {
  it('lints the folder offline: the package’s migrations pass (exit 0)', async () => {
    const run = await runCliHere(['lint', '--dir', MIGRATIONS])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/no findings in \d+ files/)
  })

  it('names files, exits 3 at --fail-on, and --json is the report', async () => {
    const files = ['index-not-concurrent.sql', 'drop-table.sql'].map((f) => join(FIXTURES, f))
    const errors = await runCliHere(['lint', ...files])
    expect(errors.code).toBe(3)
    expect(errors.stdout).toContain('index-not-concurrent.sql:1:1')
    const warningsOnly = await runCliHere(['lint', join(FIXTURES, 'drop-table.sql'), '--json'])
    expect(warningsOnly.code).toBe(0)
    const doc = JSON.parse(warningsOnly.stdout) as { command: string; findings: { rule: string }[] }
    expect(doc.command).toBe('lint')
    expect(doc.findings.map((f) => f.rule)).toEqual(['drop-table'])
    expect((await runCliHere(['lint', join(FIXTURES, 'drop-table.sql'), '--fail-on', 'warning'])).code).toBe(3)
    expect((await runCliHere(['lint', '--fail-on', 'never'])).code).toBe(2)
  })
})
