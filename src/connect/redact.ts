import { parse } from 'pg-connection-string'

// A URL as it may appear in text: a scheme, `://`, then anything up to white space or a quote.
// A raw `@`, `:`, `/`, `#`, `?` or `%` in a password stays inside the match.
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
const PLAIN_USER = /^[^:/?#@\s]+$/

/**
 * Removes passwords from text: every known secret (longest first, so a password that
 * contains another is replaced whole), every URL's password ({@link redactUrl}), and
 * `password=…` parameters. Use on every message, error and log line that may quote a URL.
 *
 * @example
 * ```ts
 * redact('postgres://app:s3cret@db:5432/x') // 'postgres://app:***@db:5432/x'
 * redact('failed: p@ss/word', ['p@ss/word']) // 'failed: ***'
 * ```
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join('***')
  }
  return out.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(/((?:^|[?&\s])password=)[^&\s]*/gi, '$1***')
}

/**
 * A URL fit to print. The user-info runs to the LAST `@` (a raw `@` in a password is the
 * usual mistake), and the URL is read with pg-connection-string, the parser pg itself uses:
 * - a URL it reads, with a password: `scheme://user:***@host…`;
 * - a URL it reads, with no password: unchanged;
 * - a URL it cannot read (a raw `/`, `#` or `?` in the password): no user-info at all,
 *   `scheme://host…`, since where the password ends is then anybody's guess.
 * `password=` query parameters are masked too.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:p@ss@db/x')   // 'postgres://app:***@db/x'
 * redactUrl('postgres://app:a/b#c@db/x')  // 'postgres://db/x'
 * ```
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[0]
  if (!scheme) return url
  const rest = url.slice(scheme.length)
  const at = rest.lastIndexOf('@')
  const masked = (text: string) => text.replace(/((?:^|[?&])password=)[^&#]*/gi, '$1***')
  if (at === -1) return scheme + masked(rest)
  const userInfo = rest.slice(0, at)
  const host = masked(rest.slice(at + 1))
  try {
    parse(url)
  } catch {
    return scheme + host
  }
  const colon = userInfo.indexOf(':')
  if (colon === -1) return PLAIN_USER.test(userInfo) ? `${scheme}${userInfo}@${host}` : scheme + host
  const user = userInfo.slice(0, colon)
  return PLAIN_USER.test(user) ? `${scheme}${user}:***@${host}` : `${scheme}***@${host}`
}

/**
 * The password of a URL, decoded, as pg will send it (read with pg-connection-string), if
 * it has one: to redact it wherever else it may appear.
 *
 * @example
 * ```ts
 * passwordOf('postgres://u:p%40ss@h/db') // 'p@ss'
 * ```
 */
export function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return parse(url).password || undefined
  } catch {
    return undefined
  }
}
