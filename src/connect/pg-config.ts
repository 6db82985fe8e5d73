import { readFileSync } from 'node:fs'
import { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'

import pg from 'pg'

import { TLS_PARAMETERS } from './redact.js'

type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

/** TLS settings: Node's `tls` options, `true` for TLS with full verification, `false` for none. */
export type TlsSettings = boolean | ConnectionOptions

// libpq's meaning of sslmode (pg verifies certificates for `require`; libpq does not, unless `sslrootcert` is given).
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

// As CreateDatabaseOptions describes them; `ssl` is merged over what the URL asks for.
interface PgPoolOptions {
  readonly ssl?: TlsSettings | undefined
  readonly max?: number | undefined
  readonly applicationName?: string | undefined
  readonly connectTimeoutMs?: number | undefined
  readonly sessionLockTimeoutMs?: number | undefined
}

// Long enough for a serverless database to wake; a peer that never answers fails a deploy instead of hanging it.
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000

// A migration's pool: the Migrator's connection, the lock session (transaction lock), one for status
// queries. One declaration, so the boot check's pool is the one openMigrationDatabase would open.
export const MIGRATION_POOL = Object.freeze({ max: 3, applicationName: 'wukong-migrate' })

// A query in flight when the peer vanishes without closing the socket then fails instead of hanging.
const KEEPALIVE_INITIAL_DELAY_MS = 10_000

/** A URL's query parameter; undefined when it is not a URL. */
export function urlParameter(url: string, name: string): string | null | undefined {
  try {
    return new URL(url).searchParams.get(name)
  } catch {
    return undefined
  }
}

/** libpq's `connect_timeout` (seconds; ≤ 0: no limit; 1 counts as 2) in ms, else `fallbackMs`. */
export function connectTimeoutOf(url: string, fallbackMs: number): number {
  const raw = urlParameter(url, 'connect_timeout')
  if (raw == null || !/^\s*-?\d+\s*$/.test(raw)) return fallbackMs
  const seconds = Number.parseInt(raw, 10)
  return seconds <= 0 ? 0 : Math.max(2, seconds) * 1000
}

// With libpq's fallbacks for `prefer` and `allow`, and SCRAM-SHA-256-PLUS for `channel_binding`.
export function pgPoolConfig(url: string, options: PgPoolOptions = {}): pg.PoolConfig {
  const fromUrl = tlsFromUrl(url)
  const ssl = mergeTls(fromUrl, options.ssl)
  const stripped = new URL(url)
  const params = stripped.searchParams
  const mode = options.ssl === false ? undefined : params.get('sslmode')
  // pg lacks them: plaintext after `prefer`'s TLS, TLS after `allow`'s plaintext.
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

// What these clients use of pg's Connection: not in pg's published types.
interface ConnectionInternals {
  stream: Socket
  ssl: unknown
  connect(port: number | string, host?: string): void
  attachListeners(stream: NodeJS.EventEmitter): void
  emit(event: string, ...args: unknown[]): boolean
}

const NO_TLS = 0x4e // 'N', the server's answer to SSLRequest when it has no TLS

// libpq's `sslmode=prefer`: plaintext on the same connection when the server has no TLS, where pg gives up.
class PreferTlsClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config)
    const connection = this.connection as unknown as ConnectionInternals
    const connect = connection.connect.bind(connection)
    connection.connect = (port, host) => {
      connect(port, host)
      // pg reads the answer to SSLRequest with its one `data` listener: put ours in front.
      const stream = connection.stream
      const [answer] = stream.rawListeners('data') as ((buffer: Buffer) => void)[]
      if (!answer) return
      stream.removeListener('data', answer)
      stream.once('data', (buffer: Buffer) => {
        if (buffer.length !== 1 || buffer[0] !== NO_TLS) return answer.call(stream, buffer)
        connection.ssl = false
        connection.attachListeners(stream)
        connection.emit('sslconnect') // the client sends its startup packet now, in plaintext
      })
    }
  }
}

// libpq's `sslmode=allow`: plaintext, then once with TLS when the server refuses it before authentication.
function allowTlsClient(tls: ConnectionOptions): typeof pg.Client {
  return class AllowTlsClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config)
      const client = this as unknown as { ssl: unknown }
      const connection = this.connection as unknown as ConnectionInternals
      const connect = connection.connect.bind(connection)
      const emit = connection.emit.bind(connection)
      let target: [number | string, string | undefined] | undefined
      let settled = false
      connection.connect = (port, host) => {
        target = [port, host]
        connect(port, host)
      }
      connection.emit = (event, ...args) => {
        if (event === 'authenticationOk') settled = true
        if (event !== 'errorMessage' || settled || !target) return emit(event, ...args)
        settled = true
        // Drop the refused socket silently and start over with TLS on the same connection object.
        const refused = connection.stream
        refused.removeAllListeners()
        refused.on('error', () => {})
        refused.destroy()
        connection.stream = new Socket()
        connection.ssl = tls
        client.ssl = tls
        connect(...target)
        return true
      }
    }
  }
}
