import net from 'node:net'

/**
 * What the proxy saw on the client→server side, summed over every connection since the
 * last `reset()`.
 *
 * How round trips are counted: the proxy parses the PostgreSQL frontend protocol of each
 * connection. Every message after which a client waits for the server is one round trip:
 * a simple `Query` ('Q') or a `Sync` ('S', the end of an extended-protocol
 * Parse/Bind/Describe/Execute batch). The startup packet of each connection is counted
 * apart (`startups`), as are `Terminate` messages (sent without waiting). As a cross-check,
 * `flights` counts how often a client began sending after the server's last
 * ReadyForQuery ('Z'): for a client that never pipelines, flights = queries.
 */
export interface ProxyCounts {
  /** TCP connections accepted. */
  readonly connections: number
  /** Startup packets (one per connection that got as far as logging in). */
  readonly startups: number
  /** SSLRequest / GSSENCRequest packets (each costs a round trip before the startup). */
  readonly encryptionRequests: number
  /** Simple-protocol `Query` messages. */
  readonly simpleQueries: number
  /** Extended-protocol `Sync` messages. */
  readonly syncs: number
  /** simpleQueries + syncs: the round trips spent on queries. */
  readonly queries: number
  /** Client sends that began after the server's ReadyForQuery (cross-check of `queries`). */
  readonly flights: number
  /** Bytes client→server and server→client. */
  readonly bytesUp: number
  readonly bytesDown: number
}

interface MutableCounts {
  connections: number
  startups: number
  encryptionRequests: number
  simpleQueries: number
  syncs: number
  flights: number
  bytesUp: number
  bytesDown: number
}

/** Options of {@link LatencyProxy.start}. */
export interface LatencyProxyOptions {
  readonly upstreamHost: string
  readonly upstreamPort: number
  /** Delay added to every chunk, in each direction. 0 forwards at once (counting only). */
  readonly delayMs: number
}

/** One query round trip as the proxy saw it: the start of its SQL, whitespace collapsed. */
export interface TracedQuery {
  readonly protocol: 'simple' | 'extended'
  readonly sql: string
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102

/**
 * A loopback TCP proxy in front of PostgreSQL that delays every chunk by `delayMs` in each
 * direction (so a query costs at least 2 × delayMs) and counts the client's round trips.
 *
 * @example
 * ```ts
 * const proxy = await LatencyProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: 5432, delayMs: 10 })
 * // connect to 127.0.0.1:proxy.port …
 * console.log(proxy.counts().queries)
 * await proxy.close()
 * ```
 */
export class LatencyProxy {
  readonly #server: net.Server
  readonly #options: LatencyProxyOptions
  readonly #sockets = new Set<net.Socket>()
  #counts: MutableCounts = emptyCounts()
  #trace: TracedQuery[] | undefined

  private constructor(server: net.Server, options: LatencyProxyOptions) {
    this.#server = server
    this.#options = options
  }

  static async start(options: LatencyProxyOptions): Promise<LatencyProxy> {
    const server = net.createServer()
    const proxy = new LatencyProxy(server, options)
    server.on('connection', (client) => proxy.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port
  }

  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  counts(): ProxyCounts {
    const c = this.#counts
    return Object.freeze({ ...c, queries: c.simpleQueries + c.syncs })
  }

  /** Zeroes the counts; with `trace`, also records each query round trip from now on. */
  reset(options: { readonly trace?: boolean } = {}): void {
    this.#counts = emptyCounts()
    this.#trace = options.trace ? [] : undefined
  }

  /** The queries recorded since `reset({ trace: true })`, in the order they were sent. */
  trace(): readonly TracedQuery[] {
    return [...(this.#trace ?? [])]
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: net.Socket): void {
    const counts = (): MutableCounts => this.#counts
    const trace = (q: TracedQuery): void => void this.#trace?.push(q)
    counts().connections++
    const upstream = net.connect({ host: this.#options.upstreamHost, port: this.#options.upstreamPort })
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    this.#sockets.add(client)
    this.#sockets.add(upstream)

    const state = new ConnectionState()
    const toServer = new DelayedPipe(upstream, this.#options.delayMs)
    const toClient = new DelayedPipe(client, this.#options.delayMs)

    client.on('data', (chunk: Buffer) => {
      counts().bytesUp += chunk.length
      state.fromClient(chunk, counts(), trace)
      toServer.push(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      counts().bytesDown += chunk.length
      state.fromServer(chunk)
      toClient.push(chunk)
    })
    client.on('end', () => toServer.end())
    upstream.on('end', () => toClient.end())
    const teardown = (): void => {
      this.#sockets.delete(client)
      this.#sockets.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', teardown)
    upstream.on('close', teardown)
    client.on('error', teardown)
    upstream.on('error', teardown)
  }
}

function emptyCounts(): MutableCounts {
  return {
    connections: 0,
    startups: 0,
    encryptionRequests: 0,
    simpleQueries: 0,
    syncs: 0,
    flights: 0,
    bytesUp: 0,
    bytesDown: 0,
  }
}

/** Writes chunks to a socket `delayMs` after they arrived, in order. */
class DelayedPipe {
  readonly #target: net.Socket
  readonly #delayMs: number
  readonly #queue: { due: number; chunk: Buffer | null }[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(target: net.Socket, delayMs: number) {
    this.#target = target
    this.#delayMs = delayMs
  }

  push(chunk: Buffer): void {
    this.#enqueue(chunk)
  }

  /** Half-closes the target once everything before has been written. */
  end(): void {
    this.#enqueue(null)
  }

  #enqueue(chunk: Buffer | null): void {
    if (this.#delayMs <= 0 && this.#queue.length === 0) {
      this.#write(chunk)
      return
    }
    this.#queue.push({ due: performance.now() + this.#delayMs, chunk })
    this.#schedule()
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0) return
    const wait = Math.max(0, this.#queue[0]!.due - performance.now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const now = performance.now()
      // Timers fire up to ~1 ms late, never early by design; allow a sub-ms early flush.
      while (this.#queue.length && this.#queue[0]!.due <= now + 0.5) this.#write(this.#queue.shift()!.chunk)
      this.#schedule()
    }, wait)
  }

  #write(chunk: Buffer | null): void {
    if (this.#target.destroyed) return
    if (chunk === null) this.#target.end()
    else this.#target.write(chunk)
  }
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start)
  return buffer.toString('utf8', start, end < 0 ? buffer.length : end)
}

function excerpt(text: string): string {
  const flat = text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return flat.length > 110 ? `${flat.slice(0, 107)}...` : flat
}

/** Parses one connection's two byte streams into protocol messages, for counting. */
class ConnectionState {
  #up = Buffer.alloc(0)
  #down = Buffer.alloc(0)
  #startupDone = false
  /** Single-byte answers ('S'/'N'/'G') the server owes to SSL/GSS requests. */
  #rawBytesOwed = 0
  #waiting = false
  #parsed = ''

  fromClient(chunk: Buffer, counts: MutableCounts, trace: (q: TracedQuery) => void): void {
    this.#up = Buffer.concat([this.#up, chunk])
    for (;;) {
      if (!this.#startupDone) {
        if (this.#up.length < 8) return
        const length = this.#up.readInt32BE(0)
        if (this.#up.length < length) return
        const code = this.#up.readInt32BE(4)
        this.#up = this.#up.subarray(length)
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          counts.encryptionRequests++
          this.#rawBytesOwed++
        } else if (code === CANCEL_REQUEST) {
          return
        } else {
          counts.startups++
          this.#startupDone = true
          this.#waiting = true // until the server's first ReadyForQuery
        }
        continue
      }
      if (this.#up.length < 5) return
      const length = this.#up.readInt32BE(1)
      if (this.#up.length < 1 + length) return
      const type = String.fromCharCode(this.#up[0]!)
      const body = this.#up.subarray(5, 1 + length)
      this.#up = this.#up.subarray(1 + length)
      if (type === 'X') continue
      if (type === 'Q') {
        counts.simpleQueries++
        trace({ protocol: 'simple', sql: excerpt(cString(body, 0)) })
      } else if (type === 'P') {
        // Parse: statement name, then the query text.
        const nameEnd = body.indexOf(0)
        this.#parsed = excerpt(cString(body, nameEnd + 1))
      } else if (type === 'S') {
        counts.syncs++
        trace({ protocol: 'extended', sql: this.#parsed || '(prepared statement)' })
        this.#parsed = ''
      }
      // 'p' (password) and 'd'/'c'/'f' (COPY data) belong to an exchange already counted.
      if (!this.#waiting && type !== 'p' && type !== 'd' && type !== 'c' && type !== 'f') {
        counts.flights++
        this.#waiting = true
      }
    }
  }

  fromServer(chunk: Buffer): void {
    this.#down = Buffer.concat([this.#down, chunk])
    for (;;) {
      if (this.#rawBytesOwed > 0) {
        if (this.#down.length < 1) return
        this.#down = this.#down.subarray(1)
        this.#rawBytesOwed--
        continue
      }
      if (this.#down.length < 5) return
      const length = this.#down.readInt32BE(1)
      if (this.#down.length < 1 + length) return
      if (this.#down[0] === 0x5a /* 'Z' */) this.#waiting = false
      this.#down = this.#down.subarray(1 + length)
    }
  }
}
