import { isAbsolute, join, relative } from 'node:path'

/** A duration for people: `850 ms`, `12.4 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`
}

/** A path as the user would type it: relative to the working directory when it is inside it. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** A file an error names, relative to the migration folder unless absolute. */
export function inFolder(folder: string | null, file: string): string {
  return isAbsolute(file) || folder === null ? file : join(folder, file)
}

/** `1 file`, `2 files`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
