/** The styles the CLI uses; each is the identity when colour is off. */
export interface Palette {
  readonly enabled: boolean
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

/**
 * Whether to colour a stream: never when `NO_COLOR` is set to a non-empty value
 * (https://no-color.org, and it wins over everything), always when `FORCE_COLOR` is set to
 * anything but `0`/`false` (CI logs that render ANSI), else only on a terminal that is not
 * `TERM=dumb`. Piped output is plain, so logs and `grep` see plain text.
 */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR']) return false
  const force = env['FORCE_COLOR']
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false'
  return stream.isTTY === true && env['TERM'] !== 'dumb'
}

/** ANSI styles, or plain identities when `enabled` is false. */
export function palette(enabled: boolean): Palette {
  // Each style closes with its own reset code, so styles nest and never bleed into the next line.
  const style = (open: number, close: number) => (text: string) =>
    enabled && text ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return Object.freeze({
    enabled,
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  })
}
