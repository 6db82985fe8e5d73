// A WebSocket-to-TCP proxy speaking Neon's wsproxy protocol, for @neondatabase/serverless (and so
// @vercel/postgres) to reach a local server: the client opens ws://host:port/v2?address=H:P and
// then every binary message is raw PostgreSQL protocol, both ways. Loopback targets only.
import { connect, type Socket } from 'node:net'

import { WebSocketServer, type WebSocket } from 'ws'

import type { NeonSettings } from '../../src/connect/index.js'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** A running proxy. */
export interface WsProxy {
  readonly port: number
  /** neonConfig settings that route the driver through this proxy, without TLS. */
  readonly neon: NeonSettings
  /** Connections currently open (WebSocket and TCP pairs). */
  readonly openConnections: number
  /** Cuts every open connection, as a dropped network would. */
  dropAll(): void
  stop(): Promise<void>
}

/** Starts the proxy on a free loopback port. */
export async function startWsProxy(): Promise<WsProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const pairs = new Set<{ ws: WebSocket; tcp: Socket }>()

  server.on('connection', (ws, request) => {
    const address = new URL(request.url ?? '/', 'ws://proxy').searchParams.get('address') ?? ''
    const at = address.lastIndexOf(':')
    const host = address.slice(0, at)
    const port = Number(address.slice(at + 1))
    if (!LOOPBACK.has(host) || !Number.isInteger(port) || port <= 0) {
      ws.close(1008, 'only loopback targets')
      return
    }
    const tcp = connect(port, host === 'localhost' ? '127.0.0.1' : host.replace(/^\[|\]$/g, ''))
    const pair = { ws, tcp }
    pairs.add(pair)
    const close = (): void => {
      pairs.delete(pair)
      tcp.destroy()
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close()
    }
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      tcp.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer))
    })
    tcp.on('data', (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true })
    })
    ws.on('close', close)
    ws.on('error', close)
    tcp.on('close', close)
    tcp.on('error', close)
  })

  const { port } = server.address() as { port: number }
  const dropAll = (): void => {
    for (const { ws, tcp } of pairs) {
      tcp.destroy()
      ws.terminate()
    }
    pairs.clear()
  }
  return {
    port,
    neon: Object.freeze({
      wsProxy: `127.0.0.1:${port}/v2`,
      useSecureWebSocket: false,
      pipelineConnect: false,
      pipelineTLS: false,
      forceDisablePgSSL: true,
    }),
    get openConnections() {
      return pairs.size
    },
    dropAll,
    async stop() {
      dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
