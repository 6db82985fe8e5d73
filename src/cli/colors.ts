/** The styles the CLI uses; each is the identity when colour is off. */
export type Palette = ReturnType<typeof palette>

/** NO_COLOR wins (no-color.org), FORCE_COLOR serves CI logs that render ANSI; piped output stays greppable. */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR']) return false
  const force = env['FORCE_COLOR']
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false'
  return stream.isTTY === true && env['TERM'] !== 'dumb'
}

export function palette(enabled: boolean) {
  // Each style closes with its own reset code, so styles nest.
  const style = (open: number, close: number) => (text: string) =>
    enabled && text ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return Object.freeze({
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  })
}
