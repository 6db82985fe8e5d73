import { DEFAULT_MAX_BATCH_FILES } from '../../src/provider/run-migrations.js'
import type { BenchReport } from '../bench.js'
import type { TimedRow } from './context.js'
import type { ProxyCounts, TracedQuery } from './latency-proxy.js'
import type { Summary } from './stats.js'

/** One target, as achieved in this run. */
export interface TargetOutcome {
  readonly workload: string
  readonly target: string
  readonly achieved: string
  readonly met: boolean
  /** By how much it was missed, when it was. */
  readonly shortfall?: string
}

const ms = (v: number): string =>
  Number.isNaN(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
const x = (v: number): string =>
  Number.isNaN(v) || !Number.isFinite(v) ? 'n/a' : v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`
const pct = (v: number): string => `${(v * 100).toFixed(0)} %`
const spread = (s: Summary): string => (s.n > 1 ? `${ms(s.min)}–${ms(s.max)}` : '')
const kb = (bytes: number): string =>
  bytes >= 10_240 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024).toFixed(1)} KiB`

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`
}

function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align?: readonly ('l' | 'r')[],
): string {
  const sep = header.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'))
  return [row(header), row(sep), ...rows.map(row)].join('\n')
}

function find(rows: readonly TimedRow[], id: string): TimedRow {
  const r = rows.find((x) => x.id === id)
  if (!r) throw new Error(`no row ${id}`)
  return r
}

function roundTrips(c: ProxyCounts | undefined): string {
  return c ? `${c.queries}` : ''
}

function countRange(counts: readonly ProxyCounts[], pick: (c: ProxyCounts) => number): string {
  if (counts.length === 0) return ''
  const values = counts.map(pick)
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return lo === hi ? `${lo}` : `${lo}–${hi}`
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Checks every target against a run's figures.
 *
 * @example
 * ```ts
 * const outcomes = evaluateTargets(report)
 * ```
 */
export function evaluateTargets(r: BenchReport): TargetOutcome[] {
  const out: TargetOutcome[] = []
  const w2 = (id: string, connection: 'warm' | 'cold') =>
    r.w2.rows.find((x) => x.id === id && x.connection === connection && !x.diagnostic)
  const oursWarm = w2('ours', 'warm')
  const kyselyWarm = w2('kysely', 'warm')
  if (oursWarm && kyselyWarm) {
    for (const size of r.w2.sizes) {
      const ratio = kyselyWarm.bySize[size.key].summary.median / oursWarm.bySize[size.key].summary.median
      out.push({
        workload: 'W2',
        target: `up-to-date check ≥ 20× faster than Kysely's Migrator (${size.tables.toLocaleString('en')} tables)`,
        achieved: `${x(ratio)} (${ms(kyselyWarm.bySize[size.key].summary.median)} ms vs ${ms(oursWarm.bySize[size.key].summary.median)} ms)`,
        met: ratio >= 20,
        shortfall: ratio >= 20 ? undefined : `${pct(1 - ratio / 20)} short of 20×`,
      })
    }
    const scale = oursWarm.bySize.large.summary.median / oursWarm.bySize.base.summary.median
    out.push({
      workload: 'W2',
      target: `${r.w2.sizes[1]!.tables.toLocaleString('en')} tables within 1.2× of ${r.w2.sizes[0]!.tables.toLocaleString('en')} tables (ours)`,
      achieved: `${x(scale)} (${ms(oursWarm.bySize.large.summary.median)} ms vs ${ms(oursWarm.bySize.base.summary.median)} ms)`,
      met: scale <= 1.2,
      shortfall: scale <= 1.2 ? undefined : `${pct(scale / 1.2 - 1)} over 1.2×`,
    })
  }
  const oursCold = w2('ours', 'cold')
  const bytes = oursCold?.bySize.base.counts?.bytesDown
  if (bytes !== undefined) {
    out.push({
      workload: 'W2',
      target: `bytes the server returns for the check (new connection, ${r.w2.files} files): ≤ 1 KiB`,
      achieved: `${bytes} bytes (${kb(bytes)}), connection startup included; ${oursCold!.bySize.large.counts?.bytesDown ?? '?'} bytes on ${r.w2.sizes[1]!.tables.toLocaleString('en')} tables`,
      met: bytes <= 1024,
      shortfall: bytes <= 1024 ? undefined : `${bytes - 1024} bytes over`,
    })
  }
  const w1 = (id: string) => find(r.w1.rows, id).summary.median
  const vsPsql = w1('ours') / w1('psql')
  out.push({
    workload: 'W1',
    target: `apply ${r.w1.files} files within 1.15× of psql -1 -f`,
    achieved: `${x(vsPsql)} (${ms(w1('ours'))} ms vs ${ms(w1('psql'))} ms)`,
    met: vsPsql <= 1.15,
    shortfall: vsPsql <= 1.15 ? undefined : `${pct(vsPsql / 1.15 - 1)} over 1.15×`,
  })
  for (const other of ['postgrator', 'dbmate'] as const) {
    const ratio = w1(other) / w1('ours')
    out.push({
      workload: 'W1',
      target: `apply faster than ${other}`,
      achieved: `${other} takes ${x(ratio)} ours (${ms(w1(other))} ms vs ${ms(w1('ours'))} ms)`,
      met: ratio > 1,
      shortfall: ratio > 1 ? undefined : `ours is ${pct(1 / ratio - 1)} slower`,
    })
  }
  const w3ours = r.w3.rows.find((x) => x.id === 'ours')!
  const limit = 2 * r.w3.files + 3
  const applyRt = median(w3ours.applyCounts.map((c) => c.queries))
  out.push({
    workload: 'W3',
    target: `apply ${r.w3.files} files in ≤ 2 × files + 3 = ${limit} round trips`,
    achieved: `${applyRt} query round trips (+ ${median(w3ours.applyCounts.map((c) => c.startups))} connection startup)`,
    met: applyRt <= limit,
    shortfall: applyRt <= limit ? undefined : `${applyRt - limit} round trips over (${pct(applyRt / limit - 1)})`,
  })
  const applyStartups = median(w3ours.applyCounts.map((c) => c.startups))
  out.push({
    workload: 'W3',
    target: 'apply with one connection startup (the boot check hands its connection to the run)',
    achieved: `${applyStartups} connection startup${applyStartups === 1 ? '' : 's'}`,
    met: applyStartups <= 1,
    shortfall: applyStartups <= 1 ? undefined : `${applyStartups - 1} over`,
  })
  const checkRt = median(w3ours.checkCounts.map((c) => c.queries))
  const checkStartups = median(w3ours.checkCounts.map((c) => c.startups))
  const w3kysely = r.w3.rows.find((x) => x.id === 'kysely')
  const kyselyCheck = w3kysely
    ? `; Kysely's Migrator: ${median(w3kysely.checkCounts.map((c) => c.startups))} + ${median(w3kysely.checkCounts.map((c) => c.queries))}`
    : ''
  out.push({
    workload: 'W3',
    target: `up-to-date boot over the ${2 * r.w3.delayMs} ms proxy: 1 connection startup + 1 round trip`,
    achieved: `${checkStartups} + ${checkRt}${kyselyCheck}`,
    met: checkRt <= 1 && checkStartups <= 1,
    shortfall: checkRt <= 1 && checkStartups <= 1 ? undefined : `${checkRt + checkStartups - 2} over`,
  })
  const fixture = r.w4.rows.find((x) => x.id === 'fixture') ?? find(r.w4.rows, 'template-wal-log')
  const scratch = find(r.w4.rows, 'scratch')
  const standIn =
    fixture.id === 'fixture'
      ? ''
      : ' (stand-in: CREATE DATABASE … TEMPLATE measured directly; the fixture is not in src/testing yet)'
  out.push({
    workload: 'W4',
    target: `fresh migrated database: median ≤ 10 ms${standIn}`,
    achieved: `${ms(fixture.summary.median)} ms`,
    met: fixture.summary.median <= 10,
    shortfall:
      fixture.summary.median <= 10
        ? undefined
        : `${ms(fixture.summary.median - 10)} ms over (${pct(fixture.summary.median / 10 - 1)})`,
  })
  const w4ratio = scratch.summary.median / fixture.summary.median
  out.push({
    workload: 'W4',
    target: `≥ 10× faster than migrating from scratch${standIn}`,
    achieved: `${x(w4ratio)} (${ms(scratch.summary.median)} ms vs ${ms(fixture.summary.median)} ms)`,
    met: w4ratio >= 10,
    shortfall: w4ratio >= 10 ? undefined : `${pct(1 - w4ratio / 10)} short of 10×`,
  })
  const w5 = (id: string): number => find(r.w5.rows, id).summary.median
  const vsKysely = w5('ours') / w5('kysely')
  out.push({
    workload: 'W5',
    target: "up-to-date boot of a consumer app (whole process) ≤ 0.5× Kysely's Migrator",
    achieved: `${x(vsKysely)} (${ms(w5('ours'))} ms vs ${ms(w5('kysely'))} ms)`,
    met: vsKysely <= 0.5,
    shortfall: vsKysely <= 0.5 ? undefined : `${pct(vsKysely / 0.5 - 1)} over 0.5×`,
  })
  const beside = ` (psql select 1: ${x(w5('psql') / w5('floor'))}, dbmate status: ${x(w5('dbmate-status') / w5('floor'))}, dbmate up: ${x(w5('dbmate-up') / w5('floor'))})`
  for (const [id, what, limit] of [
    ['ours', 'up-to-date boot of a consumer app', 1.3],
    ['cli-migrate', '`wukong-migrate migrate`, up to date,', 1.5],
    ['cli-status', '`wukong-migrate status`, up to date,', 1.5],
    ['cli-version', '`wukong-migrate --version`', 1.2],
  ] as const) {
    const ratio = w5(id) / w5('floor')
    out.push({
      workload: 'W5',
      target: `${what} ≤ ${limit}× the floor (node + pg + one query)`,
      achieved: `${x(ratio)} (${ms(w5(id))} ms vs ${ms(w5('floor'))} ms)${id.startsWith('cli-') && id !== 'cli-version' ? beside : ''}`,
      met: ratio <= limit,
      shortfall: ratio <= limit ? undefined : `${pct(ratio / limit - 1)} over ${limit}×`,
    })
  }
  return out
}

function allCounts(r: BenchReport): ProxyCounts[] {
  const out: ProxyCounts[] = []
  for (const c of r.w1.rows) if (c.counts) out.push(c.counts)
  for (const c of [...r.w2.rows, ...r.w2.pending])
    for (const s of [c.bySize.base, c.bySize.large]) if (s.counts) out.push(s.counts)
  for (const c of r.w3.rows) out.push(...c.applyCounts, ...c.checkCounts)
  return out
}

function flightsAgree(r: BenchReport): boolean {
  return allCounts(r).every((c) => c.flights === c.queries)
}

function traceList(trace: readonly TracedQuery[]): string {
  return trace
    .map(
      (q, i) => `${i + 1}. \`${q.sql.replace(/`/g, "'")}\`${q.protocol === 'extended' ? ' (extended protocol)' : ''}`,
    )
    .join('\n')
}

/**
 * Renders a run as bench/RESULTS.md.
 *
 * @example
 * ```ts
 * await writeFile('bench/RESULTS.md', renderResults(report))
 * ```
 */
export function renderResults(r: BenchReport, options: { readonly note?: string } = {}): string {
  const m = r.machine
  const outcomes = evaluateTargets(r)
  const minutes = ((r.finishedAt.getTime() - r.startedAt.getTime()) / 60_000).toFixed(1)
  const settings = Object.entries(m.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  const lines: string[] = []
  const p = (...xs: string[]): void => void lines.push(...xs)

  p(
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${minutes} min.`,
    '',
    `**Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; ${m.postgres} on loopback (${settings}).`,
    `Load average (1 min) at start ${r.loadAtStart}, at end ${r.loadAtEnd}: figures taken under load are noisier and slower; ratios within one run are what to compare.`,
    '',
    ...(options.note ? [`> **Note:** ${options.note}`, ''] : []),
    '## Targets',
    '',
    table(
      ['', 'target', 'achieved', 'met?'],
      outcomes.map((o) => [o.workload, o.target, o.achieved, o.met ? 'yes' : `**no**: ${o.shortfall}`]),
      ['l', 'l', 'l', 'l'],
    ),
    '',
    'Where a target is missed, [the last section](#where-targets-are-missed-and-why) says why.',
    '',
    '## How this is measured',
    '',
    `- Every contender runs against the same PostgreSQL server in one process tree, in alternating order (the order rotates by one each round), after ${r.w1.rounds.warmup}–${r.w2.rounds.warmup} untimed warm-up round(s); tables show the median of the measured runs, with min–max.`,
    "- **ours**: `MigrationRunner` (src/provider), a new runner per call, so each call reads and parses the files. **Kysely**: `new Migrator({ db, provider })`, default settings, with an in-memory provider whose migrations run each file as `sql.raw(text).execute(db)`; the SQL is read into memory once, untimed (as an app bundling its migrations would), so Kysely's figures carry no file reading while every other contender reads its files in each timed call. **postgrator 8**: one `pg.Client`, files named `NNN.do.name.sql`. **dbmate 2**: the Go binary itself (not the npm shim), `--no-dump-schema migrate`, files `NNN_name.sql` with `-- migrate:up` and an empty `-- migrate:down` block (dbmate insists on one). **psql**: `psql -X -1 -v ON_ERROR_STOP=1 -f` on every file concatenated (the floor: one transaction, no ledger). **one query**: the concatenated files sent as one simple-protocol query by `pg` (reference only: the round-trip floor, since psql sends every statement separately).",
    '- In-process contenders pay for creating their connection in every timed call (the `warm` rows of W2 excepted); dbmate and psql also pay for starting a process. Both programs get `sslmode=disable`, as node-postgres uses no TLS either.',
    '- Creating, verifying and dropping databases is never timed. Each apply is checked (every file applied, or every table present); each up-to-date check must find nothing to do.',
    '',
    '### How round trips are counted',
    '',
    `A loopback TCP proxy written with \`node:net\` (bench/lib/latency-proxy.ts) sits between the client and the server and parses the client→server byte stream of the PostgreSQL protocol. Every message after which the client waits for the server is one round trip: each simple \`Query\` ('Q') and each \`Sync\` ('S', which ends an extended-protocol Parse/Bind/Describe/Execute batch). Each connection's startup packet is counted apart (\`startups\`; with trust authentication it costs one more round trip), and \`Terminate\` is not counted (nothing waits for it). As a cross-check the proxy also counts *flights*, the times a client began sending after the server's last ReadyForQuery ('Z'); ${flightsAgree(r) ? 'in every count of this run flights equalled queries, i.e. no contender pipelined' : '**in some counts of this run flights differed from queries** (a client pipelined, or ran queries on two connections at once), so wall time is the better guide there'}. W1 and W2 counts come from one extra untimed pass through the proxy with no delay; W3 counts every measured run with the 10 ms delay.`,
    '',
  )

  // W1
  const psqlMedian = find(r.w1.rows, 'psql').summary.median
  p(
    `## W1: apply ${r.w1.files} one-table files to an empty database`,
    '',
    `A fresh database per run; each file creates one table (a bigserial key, text, jsonb, timestamptz default). ${r.w1.rounds.runs} measured runs.`,
    '',
    table(
      ['contender', 'median ms', 'min–max', 'vs psql', 'round trips', 'connections'],
      r.w1.rows.map((c) => [
        c.label,
        ms(c.summary.median),
        spread(c.summary),
        x(c.summary.median / psqlMedian),
        roundTrips(c.counts),
        c.counts ? `${c.counts.startups}` : '',
      ]),
    ),
    '',
    'Where ours spends time before the database (diagnostics, same files, no database):',
    '',
    table(
      ['', 'median ms', 'min–max'],
      r.w1.diagnostics.map((d) => [d.label, ms(d.summary.median), spread(d.summary)]),
    ),
    '',
  )

  // W2
  const [base, large] = r.w2.sizes
  const kyselyWarm = r.w2.rows.find((x) => x.id === 'kysely' && x.connection === 'warm')
  const sizeHead = (s: typeof base): string => `${s!.tables.toLocaleString('en')} tables, ms`
  p(
    `## W2: the up-to-date check, ${r.w2.files} files applied, on ${base!.tables.toLocaleString('en')} and ${large!.tables.toLocaleString('en')} tables`,
    '',
    `Each tool checks a database it migrated itself; the larger schema adds ${(large!.tables - base!.tables).toLocaleString('en')} tables (five columns each). ${r.w2.rounds.runs} measured runs. A new runner, Migrator or Postgrator per check; ours and postgrator read the ${r.w2.files} files from disk in each check, as a cold start does, while Kysely's in-memory provider holds them already.`,
    '',
    '**On a connection kept open** (what an app pays at boot once its pool is up):',
    '',
    table(
      [
        'contender',
        sizeHead(base),
        sizeHead(large),
        `${large!.tables.toLocaleString('en')} / ${base!.tables.toLocaleString('en')}`,
        `Kysely / this (${base!.tables.toLocaleString('en')})`,
        `Kysely / this (${large!.tables.toLocaleString('en')})`,
      ],
      r.w2.rows
        .filter((c) => c.connection === 'warm')
        .map((c) => [
          c.label,
          `${ms(c.bySize.base.summary.median)} (${spread(c.bySize.base.summary)})`,
          `${ms(c.bySize.large.summary.median)} (${spread(c.bySize.large.summary)})`,
          x(c.bySize.large.summary.median / c.bySize.base.summary.median),
          kyselyWarm ? x(kyselyWarm.bySize.base.summary.median / c.bySize.base.summary.median) : '',
          kyselyWarm ? x(kyselyWarm.bySize.large.summary.median / c.bySize.large.summary.median) : '',
        ]),
    ),
    '',
    '**On a new connection per check** (dbmate: a new process too), with the round trips and the bytes the server sent back:',
    '',
    table(
      ['contender', sizeHead(base), sizeHead(large), 'round trips', 'bytes received'],
      r.w2.rows
        .filter((c) => c.connection === 'cold')
        .map((c) => [
          c.label,
          `${ms(c.bySize.base.summary.median)} (${spread(c.bySize.base.summary)})`,
          `${ms(c.bySize.large.summary.median)} (${spread(c.bySize.large.summary)})`,
          `${roundTrips(c.bySize.base.counts)} / ${roundTrips(c.bySize.large.counts)}`,
          c.bySize.base.counts && c.bySize.large.counts
            ? `${kb(c.bySize.base.counts.bytesDown)} / ${kb(c.bySize.large.counts.bytesDown)}`
            : '',
        ]),
    ),
    '',
    `**Diagnostic, the slow path:** one file pending on top of the ${r.w2.files} (new connection each; the file is reverted between runs, untimed).`,
    '',
    table(
      ['contender', sizeHead(base), sizeHead(large), 'round trips', 'bytes received'],
      r.w2.pending.map((c) => [
        c.label,
        `${ms(c.bySize.base.summary.median)} (${spread(c.bySize.base.summary)})`,
        `${ms(c.bySize.large.summary.median)} (${spread(c.bySize.large.summary)})`,
        `${roundTrips(c.bySize.base.counts)} / ${roundTrips(c.bySize.large.counts)}`,
        c.bySize.base.counts && c.bySize.large.counts
          ? `${kb(c.bySize.base.counts.bytesDown)} / ${kb(c.bySize.large.counts.bytesDown)}`
          : '',
      ]),
    ),
    '',
  )

  // W3
  p(
    `## W3: the Wukong migrations through a proxy adding ${r.w3.delayMs} ms each way`,
    '',
    `${r.w3.files} files (${r.w3.fileNames.join(', ')}) from the package's migrations/ folder. Applied to a fresh database, then checked on a new connection (a cold start). ${r.w3.rounds.runs} measured runs. Round trips are query round trips; each connection adds one startup round trip, shown apart.`,
    '',
    table(
      ['contender', 'apply ms', 'apply round trips', 'check ms', 'check round trips', 'connections (apply + check)'],
      r.w3.rows.map((c) => [
        c.label,
        `${ms(c.apply.median)} (${spread(c.apply)})`,
        countRange(c.applyCounts, (k) => k.queries),
        c.check ? `${ms(c.check.median)} (${spread(c.check)})` : 'no check',
        c.check ? countRange(c.checkCounts, (k) => k.queries) : '',
        `${countRange(c.applyCounts, (k) => k.startups)}${c.check ? ` + ${countRange(c.checkCounts, (k) => k.startups)}` : ''}`,
      ]),
    ),
    '',
  )
  if (r.w3.oursTrace) {
    p(
      'Ours, round trip by round trip (an extra untimed run):',
      '',
      '*Apply:*',
      '',
      traceList(r.w3.oursTrace.apply),
      '',
      '*Check:*',
      '',
      traceList(r.w3.oursTrace.check),
      '',
    )
  }

  // W4
  const fixtureRow = r.w4.rows.find((x) => x.id === 'fixture')
  const scratch = find(r.w4.rows, 'scratch')
  p(
    '## W4: a fresh, isolated, migrated database',
    '',
    fixtureRow
      ? `\`createTestDatabase()\` from src/testing (its first call, which migrates the template and starts the pool, took ${ms(r.w4.fixtureFirstCallMs ?? Number.NaN)} ms and is not in the figures) until its \`db\` has answered a query, against \`CREATE DATABASE\` + \`MigrationRunner.migrate()\` of the same ${r.w4.files} files. The fixture keeps a small pool of clones made ahead of time in the background; the rounds alternate with the other rows, so the pool refills between hand-outs, as it does when tests do work between them. The other rows are diagnostics measured directly: clones of a migrated template with each of PostgreSQL 15's two copy strategies (what the pool pays in the background for each clone), and an empty database. ${r.w4.rounds.runs} measured runs; \`destroy()\` untimed (it returns at once and drops in the background).`
      : `**\`createTestDatabase()\` is not in src/testing yet**, so the fixture could not be measured; the rows below measure what it will do, directly: \`CREATE DATABASE … TEMPLATE\` of a template migrated once, then a query on a new connection, against \`CREATE DATABASE\` + \`MigrationRunner.migrate()\` of the same ${r.w4.files} files. The benchmark measures the fixture itself as soon as it lands. ${r.w4.rounds.runs} measured runs; dropping untimed.`,
    '',
    table(
      ['way', 'median ms', 'min–max', 'scratch / this'],
      r.w4.rows.map((c) => [
        c.label,
        ms(c.summary.median),
        spread(c.summary),
        x(scratch.summary.median / c.summary.median),
      ]),
    ),
    '',
  )

  // W5
  const w5ms = (id: string): number => find(r.w5.rows, id).summary.median
  p(
    "## W5: a consumer app's whole-process boot on an up-to-date database",
    '',
    `The package packed with \`npm pack\` (its prepack builds dist/) and installed from the tarball with kysely and pg into a fresh app (${Object.entries(
      r.w5.versions,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}); each run is \`node script.mjs\` with plain node, or the installed bin as its shebang runs it (\`node …/wukong-migrate.js\`, the package's own migrations, \`--url\`), timed from spawn to exit, on one database ours migrated (untimed), on which Kysely's Migrator, holding the same SQL files in memory, finds nothing to do as well. psql and dbmate (the Go binary, on a database of its own that it migrated, untimed, with the same files in its naming) run beside them. ${r.w5.rounds.runs} measured runs, alternating; modules counted in one extra run with a load hook (node processes only).`,
    '',
    table(
      ['contender', 'median ms', 'min–max', 'vs Kysely', 'vs floor', 'modules loaded'],
      r.w5.rows.map((c) => [
        c.label,
        ms(c.summary.median),
        spread(c.summary),
        x(c.summary.median / w5ms('kysely')),
        x(c.summary.median / w5ms('floor')),
        c.modules ?? '',
      ]),
    ),
    '',
  )

  // Misses
  p('## Where targets are missed, and why', '')
  const missed = outcomes.filter((o) => !o.met)
  if (missed.length === 0) p('Every target was met in this run.', '')
  let previous = ''
  for (const o of missed) {
    const why = explain(r, o)
    p(
      `- **${o.workload}, ${o.target}**: ${o.achieved}; ${o.shortfall}. ${why === previous ? 'Same cause as the item above.' : why}`,
      '',
    )
    previous = why
  }
  return `${lines.join('\n').trimEnd()}\n`
}

/** The cause of a missed target, from the run's own figures. */
function explain(r: BenchReport, o: TargetOutcome): string {
  const w1 = (id: string): TimedRow => find(r.w1.rows, id)
  const diag = (id: string): Summary => find(r.w1.diagnostics, id).summary
  if (o.workload === 'W1' && o.target.includes('psql')) {
    const q = w1('ours').counts?.queries ?? Number.NaN
    const perFile = w1('query-per-file').summary.median
    return (
      `Ours sends ${q} queries where psql sends ${w1('psql').counts?.queries ?? '?'} (one per statement, all in ONE transaction) and the one-query reference 1: ` +
      `the files go in batches of up to ${DEFAULT_MAX_BATCH_FILES} per query, each file in its own transaction with both ledger rows, plus the run's fixed queries (see W3); each file commits on its own, where psql commits once ` +
      `(per-file commits are by design: files before a failure stay applied and recorded). The references split the gap: the server needs ${ms(w1('one-query').summary.median)} ms for the DDL sent as one query; ` +
      `sending each file as its own query with no ledger at all (${w1('query-per-file').counts?.queries ?? '?'} round trips, one commit each) takes ${ms(perFile)} ms (${x(perFile / w1('psql').summary.median)} psql): ` +
      `that is the price of committing file by file, before any bookkeeping. Ours adds ${ms(w1('ours').summary.median - perFile)} ms to that (${x(w1('ours').summary.median / perFile)} of it): two ledger rows per file, ` +
      `and a new runner reading, validating and parsing the ${r.w1.files} files (${ms(diag('ours-load').median)} ms, of which libpg-query parsing alone is ${ms(diag('parse-only').median)} ms).`
    )
  }
  if (o.workload === 'W1') {
    const other = o.target.includes('postgrator') ? 'postgrator' : 'dbmate'
    const [a, b] = [w1('ours').summary, w1(other).summary]
    const overlap = a.min <= b.max && b.min <= a.max
    return (
      `${other} sends ${w1(other).counts?.queries ?? '?'} queries to ours's ${w1('ours').counts?.queries ?? '?'}. ` +
      (overlap
        ? `The two min–max ranges overlap (ours ${spread(a)} ms, ${other} ${spread(b)} ms): the gap of ${ms(a.median - b.median)} ms is within this run's noise. `
        : '') +
      `Of ours's time, a new runner reading, validating and parsing the ${r.w1.files} files is ${ms(diag('ours-load').median)} ms (libpg-query parsing alone ${ms(diag('parse-only').median)} ms); the rest is the server's work.`
    )
  }
  if (o.workload === 'W2' && o.target.includes('Kysely')) {
    const key = o.target.includes(`(${r.w2.sizes[0]!.tables.toLocaleString('en')} tables)`) ? 'base' : 'large'
    const get = (id: string): Summary =>
      r.w2.rows.find((x) => x.id === id && x.connection === 'warm')!.bySize[key].summary
    return (
      `Ours sends one query (two digests up, one short row back); what remains is the folder. Each check lists, reads and checksums the ${r.w2.files} files ` +
      `(${ms(diag('ours-scan').median)} ms; nothing is kept between runners, so an edited file is always seen), ` +
      `and the query alone takes ${ms(get('snapshot').median)} ms, the floor query reading only version and checksum ${ms(get('floor').median)} ms. ` +
      "Kysely's baseline never looks at the folder (its in-memory provider holds the SQL), so it would not see a new or edited file; at " +
      `${key === 'base' ? 'this schema size' : 'the larger schema'} its catalog reads are cheap enough that reading the folder is most of ours's time.`
    )
  }
  if (o.workload === 'W2') {
    return 'Ours sends the same single query on both schemas and receives the same bytes (see the round-trip table), so the difference is not database work: compare it with the min–max spread of the two rows.'
  }
  if (o.workload === 'W3' && o.target.includes('apply')) {
    const trace = r.w3.oursTrace?.apply ?? []
    const fileBatches = trace.filter((q) => /insert into schema_versions/i.test(q.sql)).length
    return `Of the ${trace.length} round trips in the trace above, ${fileBatches} carry the files (each file's SQL with both ledger rows) and ${trace.length - fileBatches} are fixed costs of the run.`
  }
  if (o.workload === 'W5') {
    const get = (id: string) => r.w5.rows.find((row) => row.id === id)!
    const floor = get('floor')
    const cli = o.target.includes('wukong-migrate')
    return cli
      ? `The floor loads ${floor.modules ?? '?'} modules; the command line loads ${get('cli-version').modules ?? '?'} for --version, ${get('cli-status').modules ?? '?'} for status and ${get('cli-migrate').modules ?? '?'} for migrate (the driver, the files and their digests, one query; no Kysely, no parser). Its bin runs plain node: a V8 flag would make Node drop its built-in code cache, so only a command that parses relaunches itself under --liftoff-only.`
      : `Importing the package alone takes ${ms(get('ours-import').summary.median)} ms (${get('ours-import').modules ?? '?'} modules), importing kysely, kysely/migration and pg ${ms(get('kysely-import').summary.median)} ms (${get('kysely-import').modules ?? '?'} modules); ` +
          `the floor loads ${floor.modules ?? '?'} modules. The root entry's exports (VectorPlugin, cosineDistance, createDatabase, the migration locks) extend or call Kysely's classes when their modules load, so importing the entry loads Kysely's index and its whole query builder (about 250 files) before the runner's front needs any of it.`
  }
  if (o.workload === 'W3') return "See ours's check trace above."
  if (o.workload === 'W4') {
    const get = (id: string): Summary | undefined => r.w4.rows.find((x) => x.id === id)?.summary
    const [wal, copy, empty] = [get('template-wal-log'), get('template-file-copy'), get('empty')]
    return (
      'The fixture hands out a clone made ahead of time, with a connection already open; what remains is taking it from the queue, building a Kysely instance and one query. ' +
      `A clone made on demand would cost \`CREATE DATABASE\`: ${wal ? `${ms(wal.median)} ms with STRATEGY WAL_LOG, ` : ''}${copy ? `${ms(copy.median)} ms with FILE_COPY, ` : ''}${empty ? `${ms(empty.median)} ms for an empty database ` : ''}on this server. ` +
      'When tests ask faster than the server clones (back to back, with no work in between), hand-outs wait for the clone in progress.'
    )
  }
  return ''
}

/**
 * A short plain-text summary for smoke runs (nothing is written to RESULTS.md).
 *
 * @example
 * ```ts
 * console.log(renderSummary(report))
 * ```
 */
export function renderSummary(r: BenchReport): string {
  const lines = [
    `smoke bench: W1 ${r.w1.files} files, W2 ${r.w2.sizes.map((s) => s.tables).join('/')} tables, W3 ${r.w3.files} files via ${r.w3.delayMs} ms proxy, W4 ${r.w4.fixture}`,
  ]
  for (const c of r.w1.rows) lines.push(`  W1 ${c.id}: ${ms(c.summary.median)} ms, ${roundTrips(c.counts)} round trips`)
  for (const c of r.w2.rows)
    lines.push(
      `  W2 ${c.id} (${c.connection}): ${ms(c.bySize.base.summary.median)} / ${ms(c.bySize.large.summary.median)} ms${c.bySize.base.counts ? `, ${c.bySize.base.counts.queries} round trips` : ''}`,
    )
  for (const c of r.w3.rows)
    lines.push(
      `  W3 ${c.id}: apply ${ms(c.apply.median)} ms / ${countRange(c.applyCounts, (k) => k.queries)} round trips${c.check ? `; check ${ms(c.check.median)} ms / ${countRange(c.checkCounts, (k) => k.queries)}` : ''}`,
    )
  for (const c of r.w4.rows) lines.push(`  W4 ${c.id}: ${ms(c.summary.median)} ms`)
  for (const c of r.w5.rows) lines.push(`  W5 ${c.id}: ${ms(c.summary.median)} ms, ${c.modules ?? '-'} modules`)
  return lines.join('\n')
}
