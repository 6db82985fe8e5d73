// A row of the ledger, apart from the code that reads it, so that the boot check loads no query builder.

/** A row of `schema_versions`. */
export interface LedgerRow {
  readonly version: number
  readonly description: string
  readonly appliedAt: Date | null
  /** Null for rows the old runner wrote and nobody has adopted yet. */
  readonly checksum: string | null
  readonly fileName: string | null
  readonly executionMs: number | null
  readonly adoptedAt: Date | null
  readonly atomic: boolean | null
}

/** A `schema_versions` row as `to_jsonb` gives it. */
export function toLedgerRow(row: Record<string, unknown>): LedgerRow {
  const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null)
  return Object.freeze({
    version: Number(row['version']),
    description: String(row['description'] ?? ''),
    appliedAt: date(row['applied_at']),
    checksum: (row['checksum'] as string | null | undefined) ?? null,
    fileName: (row['file_name'] as string | null | undefined) ?? null,
    executionMs: (row['execution_ms'] as number | null | undefined) ?? null,
    adoptedAt: date(row['adopted_at']),
    atomic: (row['atomic'] as boolean | null | undefined) ?? null,
  })
}
