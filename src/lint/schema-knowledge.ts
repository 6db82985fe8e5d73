import { catalogWidth, type RelationStats } from './relation-stats.js'

// Column widths and NOT NULL proofs, from earlier statements, then the catalog: what makes a change free.
export class SchemaKnowledge {
  readonly #catalog: ReadonlyMap<string, RelationStats>
  readonly #widths = new Map<string, number | null>()
  readonly #proven = new Set<string>()
  readonly #checks = new Map<string, string>()

  constructor(catalog: ReadonlyMap<string, RelationStats>) {
    this.#catalog = catalog
  }

  width(table: string, column: string): number | null | undefined {
    const key = `${table}.${column}`
    return this.#widths.has(key) ? this.#widths.get(key) : catalogWidth(this.#catalog.get(table)?.columns[column])
  }

  setWidth(table: string, column: string, width: number | null): void {
    this.#widths.set(`${table}.${column}`, width)
  }

  provenNotNull(table: string, column: string): boolean {
    return this.#proven.has(`${table}.${column}`) || (this.#catalog.get(table)?.notNull.includes(column) ?? false)
  }

  /** Proven now when added validated, else once validated by name. */
  notNullCheck(table: string, name: string | undefined, column: string, validated: boolean): void {
    if (validated) this.#proven.add(`${table}.${column}`)
    if (name) this.#checks.set(`${table}.${name}`, column)
  }

  validate(table: string, name: string): void {
    const column = this.#checks.get(`${table}.${name}`)
    if (column) this.#proven.add(`${table}.${column}`)
  }
}
