// The migration linter against a real server: findings ranked by table size from the catalog,
// and the locks it reports checked against what PostgreSQL really takes and who it blocks.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { type Kysely, sql } from 'kysely'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { LOCK_LEVELS, lintMigrationFiles, renderLintReport } from '../src/lint/index.js'
import { MigrationRunner } from '../src/index.js'
import { connectClient, resolveTestServer, type TestDatabaseHandle } from '../src/testing/test-server.js'
import { migrationFolder } from './support/folders.js'

const server = await resolveTestServer()
const FIXTURES = join(import.meta.dirname, 'fixtures/lint')

/** Writes a run of files and lints them in order, against `db` when given. */
async function lint(bodies: readonly string[], db?: Kysely<any>) {
  const names = bodies.map((_, i) => `${String(i + 1).padStart(3, '0')}_step.sql`)
  const dir = await migrationFolder(Object.fromEntries(names.map((n, i) => [n, bodies[i]!])))
  return lintMigrationFiles(
    names.map((n) => join(dir, n)),
    db ? { db } : {},
  )
}

describe.skipIf(server.skipReason)('with a database', () => {
  let handle: TestDatabaseHandle
  const clients: pg.Client[] = []
  const client = async (): Promise<pg.Client> => {
    const c = await connectClient(handle.url!)
    clients.push(c)
    return c
  }
  const pidOf = async (c: pg.Client): Promise<number> => (await c.query('select pg_backend_pid() as pid')).rows[0].pid
  beforeAll(async () => {
    handle = await server.createDatabase()
    await new MigrationRunner({ db: handle.db, log: () => {} }).migrate()
    await sql`insert into sessions (id, goal) values ('s1', 'lint')`.execute(handle.db)
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()))
    await handle?.destroy()
  })

  describe('ranking by the catalog', () => {
    beforeAll(async () => {
      // One session, its insert counts flushed before ANALYZE: flushed after it, they would add to
      // the live-row count ANALYZE set (200,000).
      await handle.db.connection().execute(async (db) => {
        await sql`create table big_t (id int, name varchar(20), note text)`.execute(db)
        await sql`insert into big_t select g, 'n', 'x' from generate_series(1, 100000) g`.execute(db)
        await sql`alter table big_t add constraint big_note_nn check (note is not null)`.execute(db)
        await sql`select pg_stat_force_next_flush()`.execute(db)
        await sql`analyze big_t`.execute(db)
      })
      await sql`create table empty_t (id int)`.execute(handle.db)
    })
    const files = [
      'CREATE TABLE new_t (id int);',
      [
        'CREATE INDEX i_empty ON empty_t (id);',
        'CREATE INDEX i_new ON new_t (id);',
        'CREATE INDEX i_big ON big_t (id);',
        'ALTER TABLE big_t DROP COLUMN id;',
        'ALTER TABLE big_t ALTER COLUMN name TYPE varchar(40);',
        'ALTER TABLE big_t ALTER COLUMN note SET NOT NULL;',
      ].join('\n'),
    ]

    it('tells a 100,000-row table from an empty one and from one a pending file creates, in one query', async () => {
      let queries = 0
      const counted = handle.db.withPlugin({
        transformQuery: (args) => {
          queries++
          return args.node
        },
        transformResult: async (args) => args.result,
      })
      const report = await lint(files, counted)
      expect(queries).toBe(1)
      const seen = report.findings.map((f) => [f.rule, f.relation, f.level, f.size?.exists, f.size?.empty, f.size?.big])
      expect(seen).toEqual([
        ['index-not-concurrent', '"big_t"', 'error', true, false, true],
        ['drop-column', '"big_t"', 'error', true, false, true], // a warning, raised: the table is big
        ['index-not-concurrent', '"empty_t"', 'warning', true, true, false],
        ['index-not-concurrent', '"new_t"', 'warning', false, false, false],
      ])
      expect(report.findings[0]!.size).toMatchObject({ rows: 100_000, busy: false })
      expect(report.findings[0]!.size!.bytes).toBeGreaterThan(1_000_000)
      const text = renderLintReport(report)
      expect(text).toMatch(/"big_t" · SHARE lock, scans the table · ~100,000 rows, \d+\.\d MB, \d+ scans? \(big\)/)
      expect(text).toContain('"empty_t" · SHARE lock, scans the table · empty')
      expect(text).toContain('"new_t" · SHARE lock, scans the table · new')
    })

    it('without the catalog, widening varchar and SET NOT NULL behind a validated CHECK cannot be told from a rewrite and a scan', async () => {
      const offline = (await lint(files)).findings.map((f) => [f.rule, f.level])
      expect(offline).toEqual([
        ['index-not-concurrent', 'error'],
        ['index-not-concurrent', 'error'],
        ['index-not-concurrent', 'error'],
        ['drop-column', 'warning'],
        ['column-type-rewrite', 'error'],
        ['set-not-null', 'error'],
      ])
      expect((await lint(['ALTER TABLE big_t ALTER COLUMN name TYPE varchar(10);'], handle.db)).findings).toMatchObject(
        [{ rule: 'column-type-rewrite', level: 'error' }],
      )
    })
  })

  describe('the locks it reports are the locks PostgreSQL takes', () => {
    const strongest = (modes: string[]): string => modes.sort((a, b) => rank(b) - rank(a))[0]!
    const rank = (mode: string): number => LOCK_LEVELS.findIndex((l) => lockMode(l) === mode)
    const lockMode = (level: string): string =>
      `${level
        .toLowerCase()
        .split(' ')
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')}Lock`
    const heldBy = async (pid: number, relation: string): Promise<string[]> => {
      const { rows } = await sql<{ mode: string }>`
        select mode from pg_locks where pid = ${pid} and relation = to_regclass(${relation}) and granted`.execute(
        handle.db,
      )
      return rows.map((r) => r.mode)
    }
    const runnable = readdirSync(FIXTURES).filter((f) => !/^(allow-|vacuum-full)/.test(f))

    for (const file of runnable) {
      it(`${file}: held until commit, on the relation it names`, async () => {
        const [finding] = (await lintMigrationFiles([join(FIXTURES, file)])).findings
        const a = await client()
        await a.query('begin')
        try {
          await a.query(readFileSync(join(FIXTURES, file), 'utf8'))
          const modes = await heldBy(await pidOf(a), finding!.relation!)
          expect(modes).toContain(lockMode(finding!.lock!))
          // The backfill's own lock is ROW EXCLUSIVE; the DDL before it holds a stronger one.
          if (finding!.rule !== 'backfill-with-ddl') expect(strongest(modes)).toBe(lockMode(finding!.lock!))
        } finally {
          await a.query('rollback')
        }
      })
    }
  })

  describe('who waits: the flagged statement blocks the app, the safe form does not', () => {
    let app: pg.Client
    let step = 100
    const insert = () =>
      app.query(`insert into steps (session_id, step_number, action) values ('s1', ${step++}, 'probe')`)
    const select = () => app.query('select count(*) from steps')
    const lockTimeout = async (probe: () => Promise<unknown>) => {
      await expect(probe()).rejects.toMatchObject({ code: '55P03' }) // lock_not_available
    }
    beforeAll(async () => {
      app = await client()
      await app.query(`set lock_timeout = '200ms'`)
    })
    /** Runs `statements` in a transaction left open while `check` runs, then rolls it back. */
    const holding = async (statements: string, check: () => Promise<void>) => {
      const migration = await client()
      await migration.query('begin')
      try {
        await migration.query(statements)
        await check()
      } finally {
        await migration.query('rollback')
      }
    }
    const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.sql`), 'utf8')

    it('CREATE INDEX blocks writes; CREATE INDEX CONCURRENTLY, still building, lets them through', async () => {
      await holding(fixture('index-not-concurrent'), async () => {
        await lockTimeout(insert)
        await select() // SHARE lets reads through
      })
      const safe = '-- wukong:no-transaction\nCREATE INDEX CONCURRENTLY idx_steps_probe ON steps (created_at);'
      expect((await lint([safe])).findings).toEqual([])
      // A transaction that wrote to steps keeps the concurrent build waiting, so it is caught mid-build.
      const writer = await client()
      await writer.query('begin')
      await writer.query(`insert into steps (session_id, step_number, action) values ('s1', 1, 'writer')`)
      const build = await client()
      const buildPid = await pidOf(build)
      const building = build.query('CREATE INDEX CONCURRENTLY idx_steps_probe ON steps (created_at)')
      try {
        await expect.poll(() => heldModes(buildPid), { timeout: 30_000 }).toContain('ShareUpdateExclusiveLock')
        await insert()
        await select()
      } finally {
        await writer.query('rollback')
        await building
      }
      const { rows } = await app.query(`select indisvalid from pg_index where indexrelid = 'idx_steps_probe'::regclass`)
      expect(rows).toEqual([{ indisvalid: true }])
    })

    it('ADD FOREIGN KEY blocks writes while it checks; NOT VALID, then VALIDATE CONSTRAINT in a later file, does not', async () => {
      await holding(fixture('fk-not-valid'), () => lockTimeout(insert))
      const safe = [
        'ALTER TABLE steps ADD CONSTRAINT fk_steps_probe FOREIGN KEY (session_id) REFERENCES sessions (id) NOT VALID;',
        'ALTER TABLE steps VALIDATE CONSTRAINT fk_steps_probe;',
      ]
      expect((await lint(safe)).findings).toEqual([])
      await app.query(safe[0]!) // no scan: its lock lasts as long as the catalog change
      try {
        await holding(safe[1]!, async () => {
          await insert()
          await select()
        })
      } finally {
        await app.query('alter table steps drop constraint fk_steps_probe')
      }
    })

    it('SET NOT NULL blocks reads; a NOT VALID CHECK validated later does not, and then the linter lets SET NOT NULL through', async () => {
      await holding(fixture('set-not-null'), () => lockTimeout(select))
      const check = 'ALTER TABLE steps ADD CONSTRAINT steps_status_nn CHECK (status IS NOT NULL) NOT VALID;'
      const validate = 'ALTER TABLE steps VALIDATE CONSTRAINT steps_status_nn;'
      expect((await lint([check, validate, fixture('set-not-null')])).findings).toEqual([])
      await app.query(check)
      try {
        await holding(validate, async () => {
          await insert()
          await select()
        })
        await app.query(validate)
        // The catalog now proves the column NOT NULL: the linter lets SET NOT NULL through.
        expect((await lint([fixture('set-not-null')], handle.db)).findings).toEqual([])
        expect((await lint([fixture('set-not-null')])).findings.map((f) => f.rule)).toEqual(['set-not-null'])
      } finally {
        await app.query('alter table steps drop constraint steps_status_nn')
      }
    })

    async function heldModes(pid: number): Promise<string[]> {
      const { rows } = await app.query<{ mode: string }>(
        `select mode from pg_locks where pid = $1 and relation = 'steps'::regclass and granted`,
        [pid],
      )
      return rows.map((r) => r.mode)
    }
  })
})
