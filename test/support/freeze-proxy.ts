// A TCP proxy in front of a PostgreSQL server that stops forwarding at a chosen moment and
// keeps every socket open: a server (or a stuck proxy, a half-open route) that stops answering
// without closing anything. Loopback only.
import { connect, createServer, type Socket } from 'node:net'

/** A running proxy. */
export interface FreezeProxy {
  readonly port: number
  /** The target URL with its host and port replaced by the proxy's. */
  url(target: string): string
  /** True once it froze. */
  readonly frozen: boolean
  stop(): Promise<void>
}

/**
 * Starts a proxy to `port` on 127.0.0.1. `freezeOn`:
 * - `'login'`: each client's startup packet is forwarded, then nothing more in either direction
 *   (the server's answer to the login never arrives);
 * - a string: traffic flows until a client sends a message containing it; that message is
 *   forwarded and from then on nothing more, on any connection (new ones included).
 */
export async function startFreezeProxy(port: number, freezeOn: 'login' | string): Promise<FreezeProxy> {
  const sockets = new Set<Socket>()
  let frozen = false
  const marker = freezeOn === 'login' ? undefined : Buffer.from(freezeOn)
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    let sentStartup = false
    client.on('data', (chunk: Buffer) => {
      if (frozen) return
      if (marker === undefined) {
        if (!sentStartup) upstream.write(chunk)
        sentStartup = true
        return
      }
      upstream.write(chunk)
      if (chunk.includes(marker)) frozen = true
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!frozen && marker !== undefined) client.write(chunk)
    })
    // The peer stays silent rather than closing: neither side's end is passed on.
    client.on('end', () => upstream.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const own = (server.address() as { port: number }).port
  return {
    port: own,
    url(target) {
      const u = new URL(target)
      u.host = `127.0.0.1:${own}`
      return u.toString()
    },
    get frozen() {
      return frozen
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
