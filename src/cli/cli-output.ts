import type { Writable } from 'node:stream'

import { redact } from '../connect/redact.js'
import { colorEnabled, palette, type Palette } from './colors.js'

/** The process around the CLI: its streams, environment and working directory. */
export interface CliIo {
  readonly stdout: Writable & { readonly isTTY?: boolean }
  readonly stderr: Writable & { readonly isTTY?: boolean }
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
}

/** One writer for every line, so no password a server or driver echoes can reach a CI log unredacted. */
export class CliOutput {
  readonly #io: CliIo
  readonly #secrets: readonly string[]
  readonly #closed = new Set<Writable>()
  readonly out: Palette
  readonly err: Palette
  readonly json: boolean

  constructor(io: CliIo, options: { readonly json: boolean; readonly secrets: readonly string[] }) {
    this.#io = io
    this.#secrets = options.secrets
    this.json = options.json
    this.out = palette(!options.json && colorEnabled(io.stdout, io.env))
    this.err = palette(colorEnabled(io.stderr, io.env))
    // `status | head -1`: stop writing on EPIPE; the listener stays for a failure that arrives after the run.
    for (const stream of new Set([io.stdout, io.stderr])) {
      stream.on('error', (error: Error) => {
        if ((error as { code?: unknown }).code !== 'EPIPE') throw error
        this.#closed.add(stream)
      })
    }
  }

  /** Raw text: already redacted, or fixed text such as the usage. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    const target = stream === 'stdout' ? this.#io.stdout : this.#io.stderr
    if (!this.#closed.has(target)) target.write(text)
  }

  /** Dropped with `--json`, where stdout is the document. */
  line(text = ''): void {
    if (!this.json) this.write('stdout', `${redact(text, this.#secrets)}\n`)
  }

  error(text = ''): void {
    this.write('stderr', `${redact(text, this.#secrets)}\n`)
  }

  document(doc: object): void {
    // Redacted before serialising too: JSON escaping would hide a `"` or `\` of a password from redact.
    const scrub = (_key: string, value: unknown) => (typeof value === 'string' ? redact(value, this.#secrets) : value)
    this.write('stdout', `${redact(JSON.stringify(doc, scrub, 2), this.#secrets)}\n`)
  }
}
