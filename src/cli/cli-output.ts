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

/**
 * Everything the CLI prints goes through here, so that every line, human or JSON, on stdout
 * or stderr, is redacted with the passwords of the URLs in play (a server may echo a URL in
 * an error, a driver may put it in a message; neither must reach a CI log).
 */
export class CliOutput {
  readonly #io: CliIo
  readonly #secrets: readonly string[]
  readonly #closed = new Set<Writable>()
  /** Styles for stdout (plain unless stdout is a terminal, see `colorEnabled`). */
  readonly out: Palette
  /** Styles for stderr. */
  readonly err: Palette
  readonly json: boolean

  constructor(io: CliIo, options: { readonly json: boolean; readonly secrets: readonly string[] }) {
    this.#io = io
    this.#secrets = options.secrets
    this.json = options.json
    this.out = palette(!options.json && colorEnabled(io.stdout, io.env))
    this.err = palette(colorEnabled(io.stderr, io.env))
    // A reader that goes away early (`wukong-migrate status | head -1`) makes the next write
    // fail with EPIPE, reported as an 'error' event that would end the process with a stack
    // trace. The run is not wrong for it: stop writing to that stream and finish quietly.
    // (The listener stays for the life of the stream: the failure of the last write arrives
    // after the run has returned.)
    for (const stream of new Set([io.stdout, io.stderr])) {
      stream.on('error', (error: Error) => {
        if ((error as { code?: unknown }).code !== 'EPIPE') throw error
        this.#closed.add(stream)
      })
    }
  }

  /** Whether a reader closed stdout (EPIPE): the rest of the report has nowhere to go. */
  get stdoutClosed(): boolean {
    return this.#closed.has(this.#io.stdout)
  }

  /** Writes raw text (already redacted or fixed text such as the usage), unless the reader is gone. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    const target = stream === 'stdout' ? this.#io.stdout : this.#io.stderr
    if (!this.#closed.has(target)) target.write(text)
  }

  /** Redacts every known password (and any URL's password) from a text. */
  redact(text: string): string {
    return redact(text, this.#secrets)
  }

  /** A line of the human report, on stdout; dropped in `--json` mode, where stdout is the document. */
  line(text = ''): void {
    if (!this.json) this.write('stdout', `${this.redact(text)}\n`)
  }

  /** A line on stderr: notices and errors, in both modes. */
  error(text = ''): void {
    this.write('stderr', `${this.redact(text)}\n`)
  }

  /** The one JSON document of a `--json` run, on stdout. */
  document(doc: object): void {
    // Strings are redacted before serialising, where a password still looks as typed (JSON
    // escaping would hide a `"` or `\` in it from redact), and once more after, to be sure.
    this.write(
      'stdout',
      `${this.redact(JSON.stringify(doc, (_key, value: unknown) => (typeof value === 'string' ? this.redact(value) : value), 2))}\n`,
    )
  }
}
