import { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'

import pg from 'pg'

// What these clients use of pg's Connection: not in pg's published types.
interface ConnectionInternals {
  stream: Socket
  ssl: unknown
  connect(port: number | string, host?: string): void
  attachListeners(stream: NodeJS.EventEmitter): void
  emit(event: string, ...args: unknown[]): boolean
}

const NO_TLS = 0x4e // 'N', the server's answer to SSLRequest when it has no TLS

/**
 * pg's Client with libpq's `sslmode=prefer`: pg asks for TLS and, when the server answers
 * that it has none, closes the socket with "The server does not support SSL connections";
 * libpq carries on in plaintext on the same connection (no second round trip), as this does.
 */
export class PreferTlsClient extends pg.Client {
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

/**
 * pg's Client with libpq's `sslmode=allow`: plaintext first and, when the server refuses the
 * connection before authentication succeeds (e.g. a `hostssl`-only pg_hba.conf), once more
 * on a new socket with TLS (`tls`), where pg would report the refusal. Like libpq, a second
 * refusal is the error.
 */
export function allowTlsClient(tls: ConnectionOptions): typeof pg.Client {
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
        // Drop the refused socket without a word to the client, then start over with TLS:
        // the client's listeners belong to the connection, which stays the same.
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
