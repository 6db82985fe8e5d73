import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'

import type pg from 'pg'

import { allowTlsClient, PreferTlsClient } from './libpq-tls-clients.js'
import { TLS_PARAMETERS } from './redact.js'

/** libpq's `sslmode` values (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

/** TLS settings: Node's `tls` options, `true` for TLS with full verification, `false` for none. */
export type TlsSettings = boolean | ConnectionOptions

/**
 * The TLS options a URL asks for, with libpq's meaning of `sslmode`, so a URL behaves in the
 * pg driver as it does in `psql`:
 * - `disable`: no TLS;
 * - `allow`: plaintext, and TLS without certificate checks on a second try when the server
 *   refuses the plaintext connection (see {@link pgPoolConfig}, whose pool does that retry);
 * - `prefer`: TLS without certificate checks, and plaintext on the same connection when the
 *   server has no TLS (see {@link pgPoolConfig}, whose pool does that fallback);
 * - `require`: TLS without certificate checks, or like `verify-ca` when `sslrootcert` is given;
 * - `verify-ca`: the chain must lead to `sslrootcert` (or a system CA); any host name;
 * - `verify-full`: chain and host name; `sslrootcert=system` means the system's CAs, and
 *   implies `verify-full` (as in libpq 16).
 * `sslcert`/`sslkey`/`sslpassword` give a client certificate. Without `sslmode`, no TLS
 * (pg's default) unless a client certificate or root certificate is named.
 */
export function tlsFromUrl(url: string): TlsSettings {
  const params = new URL(url).searchParams
  const rootCert = params.get('sslrootcert') ?? undefined
  const system = rootCert === 'system'
  const legacy = params.get('ssl')
  let mode = params.get('sslmode') as SslMode | 'no-verify' | null
  if (system) mode = 'verify-full'
  if (!mode) {
    if (legacy === 'true' || legacy === '1') mode = 'verify-full'
    else if (rootCert || params.get('sslcert')) mode = 'verify-full'
    else return false
  }
  if (mode === 'disable' || mode === 'allow') return false

  const options: ConnectionOptions = {}
  if (rootCert && !system) options.ca = readFileSync(rootCert, 'utf8')
  const cert = params.get('sslcert')
  const key = params.get('sslkey')
  if (cert) options.cert = readFileSync(cert, 'utf8')
  if (key) options.key = readFileSync(key, 'utf8')
  const passphrase = params.get('sslpassword')
  if (passphrase) options.passphrase = passphrase

  switch (mode) {
    case 'prefer':
    case 'no-verify':
      return { ...options, rejectUnauthorized: false }
    case 'require':
      return rootCert && !system
        ? { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : { ...options, rejectUnauthorized: false }
    case 'verify-ca':
      return { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined }
    case 'verify-full':
      return { ...options, rejectUnauthorized: true }
    default:
      throw new Error(
        `unknown sslmode "${String(mode)}" (expected disable, allow, prefer, require, verify-ca or verify-full)`,
      )
  }
}

/** Options of {@link pgPoolConfig}. */
export interface PgPoolOptions {
  /** TLS options merged over what the URL asks for; `false` turns TLS off, `true` forces it. */
  readonly ssl?: TlsSettings | undefined
  /** Pool size. Default 10. */
  readonly max?: number | undefined
  /** `application_name` reported to the server (visible in `pg_stat_activity`). */
  readonly applicationName?: string | undefined
  /**
   * Longest wait for a new connection to be ready (TCP, TLS and the server's answer to the
   * startup packet). The URL's libpq `connect_timeout` (seconds) wins when present.
   * Default {@link DEFAULT_CONNECT_TIMEOUT_MS}; 0 waits forever.
   */
  readonly connectTimeoutMs?: number | undefined
  /**
   * PostgreSQL's `lock_timeout` for every session of the pool, set in the startup packet (no
   * round trip). Only for direct connections: PgBouncer refuses unknown startup parameters.
   */
  readonly sessionLockTimeoutMs?: number | undefined
}

/**
 * Default longest wait for a connection: 30 000 ms. Long enough for a serverless database to
 * wake from suspension (a few seconds), short enough that a peer that accepts TCP and never
 * answers fails a deploy instead of hanging it. pg itself waits forever by default.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000

/**
 * Idle time before TCP keep-alive probes start on a connection: 10 000 ms. A query in flight
 * when the peer vanishes without closing the socket (a dropped route, a frozen host) then
 * fails when the operating system gives up on the probes instead of never.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000

/**
 * The connect timeout a URL asks for, in milliseconds: libpq's `connect_timeout` parameter
 * (seconds; 0 or less: no limit; libpq treats 1 as 2), else `fallbackMs`.
 */
export function connectTimeoutOf(url: string, fallbackMs: number): number {
  let raw: string | null
  try {
    raw = new URL(url).searchParams.get('connect_timeout')
  } catch {
    return fallbackMs
  }
  if (raw === null || raw.trim() === '' || !/^\s*-?\d+\s*$/.test(raw)) return fallbackMs
  const seconds = Number.parseInt(raw, 10)
  return seconds <= 0 ? 0 : Math.max(2, seconds) * 1000
}

/**
 * A `pg.Pool` configuration for a URL: its TLS settings read with libpq's meaning
 * ({@link tlsFromUrl}) and then `options.ssl` on top, so neither silently overrides the other.
 * With `sslmode=prefer` the pool's clients go on in plaintext when the server answers that it
 * has no TLS, and with `allow` they try again with TLS when the server refuses plaintext, as
 * libpq does. `channel_binding=require` or `prefer` has pg use
 * SCRAM-SHA-256-PLUS whenever the server offers it (it does over TLS).
 */
export function pgPoolConfig(url: string, options: PgPoolOptions = {}): pg.PoolConfig {
  const fromUrl = tlsFromUrl(url)
  const ssl = mergeTls(fromUrl, options.ssl)
  const stripped = new URL(url)
  const params = stripped.searchParams
  const mode = options.ssl === false ? undefined : params.get('sslmode')
  // libpq's fallbacks, which pg lacks: plaintext after `prefer`'s TLS, TLS after `allow`'s plaintext.
  const fallback =
    mode === 'prefer' ? PreferTlsClient : mode === 'allow' ? allowTlsClient(preferredTls(url, options.ssl)) : undefined
  const channelBinding = params.get('channel_binding')
  for (const name of TLS_PARAMETERS) params.delete(name)
  // Prisma's marker means nothing to the server; keep it out of the startup packet's way.
  params.delete('pgbouncer')
  return {
    connectionString: stripped.toString(),
    ssl,
    ...(fallback ? { Client: fallback } : {}),
    ...(channelBinding === 'require' || channelBinding === 'prefer' ? { enableChannelBinding: true } : {}),
    max: options.max ?? 10,
    connectionTimeoutMillis: connectTimeoutOf(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.sessionLockTimeoutMs === undefined
      ? {}
      : { options: `-c lock_timeout=${Math.max(0, Math.trunc(options.sessionLockTimeoutMs))}` }),
  }
}

function mergeTls(fromUrl: TlsSettings, explicit: TlsSettings | undefined): TlsSettings {
  if (explicit === undefined) return fromUrl
  if (explicit === false) return false
  if (explicit === true) return fromUrl === false ? true : fromUrl
  return { ...(typeof fromUrl === 'object' ? fromUrl : {}), ...explicit }
}

// The TLS options `allow` retries with: those of `prefer` for the same URL.
function preferredTls(url: string, explicit: TlsSettings | undefined): ConnectionOptions {
  const u = new URL(url)
  u.searchParams.set('sslmode', 'prefer')
  const merged = mergeTls(tlsFromUrl(u.toString()), explicit)
  return typeof merged === 'object' ? merged : { rejectUnauthorized: false }
}
