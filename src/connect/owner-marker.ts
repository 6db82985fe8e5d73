import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'

import { bootId, isProcessRunning, startTicks } from './process-identity.js'

// Who made a scratch database, so leftovers of gone owners can be told apart (boot and start time tell a reused pid apart).
export interface OwnerMarker {
  readonly host: string
  readonly boot: string
  readonly pid: number
  readonly start: string
}

export const CLONE_PREFIX = 'wk_t_'

// A template while it is being migrated, before it is published.
export const BUILDING_PREFIX = 'wk_building_'

const MARKER = /^(?:wk_t_|wk_building_|wk_shadow_|wk_roundtrip_)([0-9a-f]{6})([0-9a-f]{4})_(\d+)_([0-9a-z]+)_[0-9a-f]+$/

let self: OwnerMarker | undefined

export function currentOwner(): OwnerMarker {
  self ??= Object.freeze({
    host: hostId(),
    boot: bootId().replace(/-/g, '').slice(0, 4).toLowerCase() || '0000',
    pid: process.pid,
    start: startTime(process.pid) ?? '0',
  })
  return self
}

// At most 63 bytes, PostgreSQL's limit.
export function cloneName(owner: OwnerMarker, prefix: string = CLONE_PREFIX): string {
  return `${prefix}${owner.host}${owner.boot}_${owner.pid}_${owner.start}_${randomBytes(3).toString('hex')}`
}

export function parseOwner(name: string): OwnerMarker | undefined {
  const m = MARKER.exec(name)
  if (!m) return undefined
  return Object.freeze({ host: m[1]!, boot: m[2]!, pid: Number(m[3]), start: m[4]! })
}

// Only when certain: a marker from another host is never gone (the server may be shared).
export function isOwnerGone(owner: OwnerMarker, me: OwnerMarker = currentOwner()): boolean {
  if (owner.host !== me.host) return false
  if (owner.boot !== me.boot) return owner.boot !== '0000' && me.boot !== '0000'
  if (owner.pid === me.pid) return owner.start !== me.start && owner.start !== '0' && me.start !== '0'
  if (!isProcessRunning(owner.pid, undefined)) return true
  if (owner.start === '0') return false
  const start = startTime(owner.pid)
  return start !== undefined && start !== owner.start
}

function hostId(): string {
  let machine = ''
  try {
    machine = readFileSync('/etc/machine-id', 'utf8').trim()
  } catch {
    // Not every platform has one; the hostname alone still separates machines.
  }
  return createHash('sha256').update(`${hostname()}\n${machine}`).digest('hex').slice(0, 6)
}

// Base 36, to fit PostgreSQL's 63-byte names.
function startTime(pid: number): string | undefined {
  const ticks = startTicks(pid)
  return ticks === undefined ? undefined : BigInt(ticks).toString(36)
}
