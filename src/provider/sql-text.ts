import { createHash } from 'node:crypto'

import { MigrationError } from '../errors/migration-error.js'

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const BOM = '\uFEFF'

// A Windows checkout (BOM, CRLF) gives the same text, and so the same checksum.
export function decodeSqlFile(bytes: Uint8Array, file: string): string {
  let raw: string
  try {
    raw = UTF8.decode(bytes)
  } catch (cause) {
    const at = firstInvalidUtf8Byte(bytes)
    const valid = new TextDecoder('utf-8').decode(bytes.subarray(0, at))
    const { line, column } = lineColumnAt(valid, valid.length)
    throw new MigrationError(
      'INVALID_UTF8',
      `the file is not valid UTF-8 (bad byte 0x${bytes[at]?.toString(16).padStart(2, '0')} at byte ${at}); save it as UTF-8`,
      { file, line, column, cause },
    )
  }
  const text = (raw.startsWith(BOM) ? raw.slice(1) : raw).replace(/\r\n/g, '\n')
  const nul = text.indexOf('\0')
  if (nul !== -1) {
    const at = lineColumnAt(text, nul)
    const message = `the file contains a NUL byte, which PostgreSQL cannot accept in SQL text`
    throw new MigrationError('NUL_BYTE', message, { file, ...at })
  }
  return text
}

export function sqlChecksum(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

// A lone CR too: PostgreSQL's scanner ends a `--` comment at either character.
export const LINE_BREAK = /\r\n|\r|\n/

export function nextLineBreak(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 || c === 13) return i
  }
  return -1
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  return lineColumnFinder(text)(offset)
}

// Line starts found once, then a binary search each: locating every statement of a large file stays linear.
export function lineColumnFinder(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0]
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1)
  }
  return (offset) => {
    const end = Math.max(0, Math.min(offset, text.length))
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= end) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, column: end - starts[lo]! + 1 }
  }
}

export function lineOf(text: string, line: number): string {
  return text.split(LINE_BREAK)[line - 1] ?? ''
}

// libpg-query counts UTF-8 bytes, strings UTF-16 units; cheapest asked in ascending order.
export function byteToCharOffsets(text: string): (byteOffset: number) => number {
  if (isAscii(text)) return (byteOffset) => byteOffset
  const bytes = Buffer.from(text, 'utf8')
  let lastByte = 0
  let lastChar = 0
  return (byteOffset) => {
    if (byteOffset < lastByte) {
      lastByte = 0
      lastChar = 0
    }
    lastChar += bytes.subarray(lastByte, byteOffset).toString('utf8').length
    lastByte = byteOffset
    return lastChar
  }
}

// PostgreSQL's error positions count code points: an emoji before the error is two UTF-16 units.
export function indexOfCodePoint(text: string, codePoints: number): number {
  let index = 0
  for (let n = 0; n < codePoints && index < text.length; n++) {
    const unit = text.charCodeAt(index)
    index += unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length ? 2 : 1
  }
  return index
}

function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!
    const width = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0
    if (width === 0) return i
    try {
      UTF8.decode(bytes.subarray(i, i + width))
    } catch {
      return i
    }
    i += width
  }
  return bytes.length
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

// standard_conforming_strings is on in every supported server.
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
