import type { ApplyEvent } from '../provider/index.js'
import type { MigrationFileResult, MigrationFileStatus } from '../runner/migration-runner.js'
import type { CliOutput } from './cli-output.js'
import { formatDuration } from './format.js'

const LABEL: Readonly<Record<MigrationFileStatus, string>> = {
  applied: 'applied',
  adopted: 'adopted',
  healed: 'healed',
  reverted: 'reverted',
  failed: 'FAILED',
  'not-run': 'not run',
}

/**
 * Prints one line per file as a run goes (from the runner's `onApply`), then the files the
 * run failed or did not reach, then a summary. Lines are aligned on the longest file name.
 *
 * ```text
 *   applied   001_people.sql       14 ms
 *   adopted   002_sessions.sql      1 ms
 *   FAILED    003_tags.sql
 *   not run   004_steps.sql
 * ```
 */
export class RunPrinter {
  readonly #out: CliOutput
  readonly #width: number
  readonly #printed = new Map<string, MigrationFileStatus>()

  constructor(out: CliOutput, fileNames: readonly string[]) {
    this.#out = out
    this.#width = Math.max(0, ...fileNames.map((f) => f.length))
  }

  /** A file finished (applied, adopted, healed or reverted). */
  event(event: ApplyEvent): void {
    this.#print(event.name, event.kind, event.fileName, event.durationMs, event.atomic)
  }

  /**
   * After a run: the files no event announced (failed, not run), and a correction for any file
   * announced but found not committed afterwards (the results are the ledger's truth).
   */
  results(results: readonly MigrationFileResult[]): void {
    for (const r of results) {
      const shown = this.#printed.get(r.name)
      if (shown === r.status) continue
      this.#print(
        r.name,
        r.status,
        r.fileName,
        shown === undefined ? r.durationMs : undefined,
        r.atomic,
        shown !== undefined,
      )
    }
  }

  #print(
    name: string,
    status: MigrationFileStatus,
    fileName: string,
    durationMs: number | undefined,
    atomic: boolean,
    correction = false,
  ): void {
    const c = this.#out.out
    this.#printed.set(name, status)
    const colour =
      status === 'applied'
        ? c.green
        : status === 'failed'
          ? (t: string) => c.red(c.bold(t))
          : status === 'not-run'
            ? c.dim
            : status === 'reverted'
              ? c.yellow
              : c.cyan
    const notes = [atomic ? '' : 'not atomic', correction ? 'rolled back: not committed' : ''].filter(Boolean)
    // An empty duration column keeps the notes aligned with the lines that have one.
    const duration =
      durationMs === undefined ? ' '.repeat(notes.length ? 9 : 0) : formatDuration(durationMs).padStart(9)
    this.#out.line(
      `  ${colour(LABEL[status].padEnd(9))} ${fileName.padEnd(this.#width)} ${duration}${notes.length ? c.dim(`  (${notes.join('; ')})`) : ''}`.trimEnd(),
    )
  }
}

/** `2 applied, 1 adopted` from a run's results (statuses with a zero count left out). */
export function countsLine(results: readonly MigrationFileResult[]): string {
  const counts = new Map<MigrationFileStatus, number>()
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1)
  const order: MigrationFileStatus[] = ['applied', 'adopted', 'healed', 'reverted', 'failed', 'not-run']
  return order
    .filter((s) => counts.get(s))
    .map((s) => `${counts.get(s)} ${s === 'not-run' ? 'not run' : s}`)
    .join(', ')
}

/** `the database is at version 3` / `no migration is applied`. */
export function versionPhrase(version: number | null): string {
  return version === null ? 'no migration is applied' : `the database is at version ${version}`
}
