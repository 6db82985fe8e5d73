import type { ApplyEvent } from '../provider/index.js'
import type { MigrationFileResult, MigrationFileStatus } from '../runner/migration-run-error.js'
import type { CliOutput } from './cli-output.js'
import { formatDuration } from './format.js'

const COLOUR = { applied: 'green', 'not-run': 'dim', reverted: 'yellow', adopted: 'cyan', healed: 'cyan' } as const

/** Prints each file as it commits (from `onApply`), so a long run shows progress; then the ones that did not. */
export class RunPrinter {
  readonly #out: CliOutput
  readonly #width: number
  readonly #printed = new Map<string, MigrationFileStatus>()

  constructor(out: CliOutput, fileNames: readonly string[]) {
    this.#out = out
    this.#width = Math.max(0, ...fileNames.map((f) => f.length))
  }

  event(event: ApplyEvent): void {
    this.#print({ ...event, status: event.kind })
  }

  /** Corrects any file announced but not committed: the results are the ledger's truth. */
  results(results: readonly MigrationFileResult[]): void {
    for (const r of results) {
      const shown = this.#printed.get(r.name)
      if (shown === r.status) continue
      this.#print({ ...r, durationMs: shown === undefined ? r.durationMs : undefined }, shown !== undefined)
    }
  }

  #print(file: Omit<MigrationFileResult, 'version'>, correction = false): void {
    const { name, status, fileName, durationMs, atomic } = file
    const c = this.#out.out
    this.#printed.set(name, status)
    const colour = status === 'failed' ? (t: string) => c.red(c.bold(t)) : c[COLOUR[status]]
    const label = status === 'failed' ? 'FAILED' : status.replace('-', ' ')
    const notes = [atomic ? '' : 'not atomic', correction ? 'rolled back: not committed' : ''].filter(Boolean)
    // An empty duration column keeps the notes aligned with the lines that have one.
    const duration =
      durationMs === undefined ? ' '.repeat(notes.length ? 9 : 0) : formatDuration(durationMs).padStart(9)
    this.#out.line(
      `  ${colour(label.padEnd(9))} ${fileName.padEnd(this.#width)} ${duration}${notes.length ? c.dim(`  (${notes.join('; ')})`) : ''}`.trimEnd(),
    )
  }
}

/** Every status, zeros included, so `--json` readers need no default. */
export function statusCounts(results: readonly MigrationFileResult[]): Record<MigrationFileStatus, number> {
  const counts = { applied: 0, adopted: 0, healed: 0, reverted: 0, failed: 0, 'not-run': 0 }
  for (const r of results) counts[r.status]++
  return counts
}

/** `2 applied, 1 adopted`. */
export function countsLine(results: readonly MigrationFileResult[]): string {
  return Object.entries(statusCounts(results))
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${s.replace('-', ' ')}`)
    .join(', ')
}

/** `the database is at version 3` / `no migration is applied`. */
export function versionPhrase(version: number | null): string {
  return version === null ? 'no migration is applied' : `the database is at version ${version}`
}
