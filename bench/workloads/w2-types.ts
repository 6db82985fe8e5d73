import type { TimedRow } from '../lib/context.js'

/** One schema size of W2. */
export interface W2Size {
  readonly key: 'base' | 'large'
  /** Tables in the schema besides each tool's bookkeeping tables. */
  readonly tables: number
}

/** One row of W2: a contender's check on both schema sizes. */
export interface W2Row {
  readonly id: string
  readonly label: string
  /** `warm`: on a connection kept open; `cold`: a new connection (or process) per check. */
  readonly connection: 'warm' | 'cold'
  readonly runs: 'in-process' | 'spawned'
  readonly diagnostic: boolean
  readonly bySize: Readonly<Record<W2Size['key'], TimedRow>>
}
