import type { MigrationFile } from '../provider/migration-file.js'
import { compareSchemaCatalogs, type SchemaDifference } from './compare-schema-catalogs.js'
import type { SchemaCatalog } from './read-schema-catalog.js'

/** The runner provides it, so the round trip applies files exactly as migrate and down do. */
export interface RoundTripTarget {
  migrateTo(version: number): Promise<void>
  down(): Promise<void>
  catalog(): Promise<SchemaCatalog>
  reset(): Promise<void>
}

/**
 * What the round trip found for one file: `proven` (its down file restored the schema its up file found, and up then
 * rebuilt the same), `no-down` (not checked; a failure with `requireDown`), `down-differs` (see `downDifferences`),
 * `up-differs` (up after down built another schema) or `failed` (the down file or the second up threw).
 */
export type RoundTripOutcome = 'proven' | 'no-down' | 'down-differs' | 'up-differs' | 'failed'

/** One file's round trip. */
export interface RoundTripFile {
  readonly version: number
  readonly fileName: string
  readonly downFileName: string | null
  readonly outcome: RoundTripOutcome
  /** Expected: the schema before the up file; actual: after the down file. */
  readonly downDifferences: readonly SchemaDifference[]
  /** Expected: the schema after the first up; actual: after down and up again. */
  readonly upDifferences: readonly SchemaDifference[]
  readonly error: unknown
}

/** The outcome of {@link verifyRoundTrip}, newest file first. */
export interface RoundTripReport {
  /** True when no file failed (and, with `requireDown`, every file has a down file). */
  readonly ok: boolean
  readonly files: readonly RoundTripFile[]
}

/** Newest first; the scratch database is rebuilt below a file without a down file or after a failure. */
export async function verifyRoundTrip(
  files: readonly MigrationFile[],
  target: RoundTripTarget,
  options: { readonly requireDown?: boolean } = {},
): Promise<RoundTripReport> {
  // catalogs[i]: the schema with the first i files applied.
  const catalogs: SchemaCatalog[] = [await target.catalog()]
  for (const file of files) {
    await target.migrateTo(file.version)
    catalogs.push(await target.catalog())
  }
  const results: RoundTripFile[] = []
  let trusted = true // the scratch database holds exactly files[0..i]
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i]!
    type Differences = readonly SchemaDifference[]
    const result = (outcome: RoundTripOutcome, down: Differences = [], up: Differences = [], error: unknown = null) =>
      Object.freeze({
        version: file.version,
        fileName: file.fileName,
        downFileName: file.down?.fileName ?? null,
        outcome,
        downDifferences: down,
        upDifferences: up,
        error,
      }) satisfies RoundTripFile
    if (!file.down) {
      results.push(result('no-down'))
      trusted = false
      continue
    }
    if (!trusted) {
      await target.reset()
      await target.migrateTo(file.version)
      trusted = true
    }
    let down: Differences = []
    try {
      await target.down()
      down = compareSchemaCatalogs(catalogs[i]!, await target.catalog())
      // Up again would meet what the down file left behind: that difference is the finding.
      let up: Differences = []
      if (!down.length) {
        await target.migrateTo(file.version)
        up = compareSchemaCatalogs(catalogs[i + 1]!, await target.catalog())
        if (!up.length) await target.down()
      }
      results.push(result(down.length ? 'down-differs' : up.length ? 'up-differs' : 'proven', down, up))
      trusted = !down.length && !up.length
    } catch (error) {
      results.push(result('failed', down, [], error))
      trusted = false
    }
  }
  const ok = results.every((r) => r.outcome === 'proven' || (r.outcome === 'no-down' && !options.requireDown))
  return Object.freeze({ ok, files: Object.freeze(results) })
}
