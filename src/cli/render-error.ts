import type { Palette } from './colors.js'
import { displayPath, inFolder } from './format.js'
import type { CliErrorJson } from './describe-error.js'

// Lines longer than this are shown as a window around the column, so the caret stays on screen.
const WINDOW = 120

/** In rustc's layout (`error[CODE]: …`, `--> file:line:col`, the line with a caret, `= help: …`), which people know. */
export function renderError(
  info: CliErrorJson,
  c: Palette,
  context: { readonly folder: string | null; readonly cwd: string },
): string[] {
  const lines = [`${c.red(c.bold(`error[${info.code}]`))}${c.bold(`: ${info.message}`)}`]
  const gutter = ' '.repeat(Math.max(1, String(info.line ?? '').length))
  const bar = c.cyan(`${gutter} |`)
  if (info.file !== null) {
    const path = displayPath(inFolder(context.folder, info.file), context.cwd)
    const at = info.line !== null ? `:${info.line}${info.column !== null ? `:${info.column}` : ''}` : ''
    lines.push(`${gutter}${c.cyan('-->')} ${path}${at}`)
  }
  const snippet = info.line !== null && info.sourceLine !== null
  if (snippet) {
    const { text, caretAt } = windowed(info.sourceLine!, info.column)
    lines.push(bar, `${c.cyan(`${info.line} |`)} ${text}`)
    if (caretAt !== null) lines.push(`${bar} ${caretAt}${c.red(c.bold('^'))}`)
  }
  const { sqlState, detail, hint, where, advice } = info
  const notes = { sqlstate: sqlState, detail, hint, context: where, help: advice }
  const present = Object.entries(notes).filter((n): n is [string, string] => n[1] !== null && n[1] !== '')
  if (present.length && snippet) lines.push(bar)
  for (const [label, value] of present) {
    const [first, ...rest] = value.split('\n')
    lines.push(`${gutter} ${c.cyan('=')} ${c.bold(`${label}:`)} ${first}`)
    for (const more of rest) lines.push(`${gutter}   ${' '.repeat(label.length + 2)}${more}`)
  }
  return lines
}

function windowed(line: string, column: number | null): { text: string; caretAt: string | null } {
  const index = column === null ? null : Math.max(0, column - 1)
  let start = 0
  if (line.length > WINDOW && index !== null && index > WINDOW / 2)
    start = Math.min(index - WINDOW / 2, line.length - WINDOW)
  const head = start > 0 ? '…' : ''
  const tail = start + WINDOW < line.length ? '…' : ''
  const text = head + line.slice(start, start + WINDOW) + tail
  if (index === null) return { text, caretAt: null }
  // Tabs stay tabs so the caret lines up however the terminal expands them.
  const before = head + line.slice(start, index)
  return { text, caretAt: before.replace(/[^\t]/g, ' ') }
}
