import { parse } from 'pg-connection-string'

/**
 * URL parameters that describe TLS and channel binding. They are taken out of the URL handed to
 * pg, because pg lets a URL's TLS settings silently replace an explicit `ssl` option (its
 * connection string is parsed last), because its `sslmode=require` verifies certificates,
 * unlike libpq's, and because pg-connection-string prints a "SECURITY WARNING" for `prefer`,
 * `require` and `verify-ca` (and reads the certificate files) whenever it parses them.
 */
export const TLS_PARAMETERS: readonly string[] = [
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslpassword',
  'ssl',
  'uselibpqcompat',
  'channel_binding',
]

// A URL as it may appear in text: a scheme, `://`, then anything up to white space or a quote.
// A raw `@`, `:`, `/`, `#`, `?` or `%` in a password stays inside the match.
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
const PLAIN_USER = /^[^:/?#@\s]+$/

/**
 * Removes passwords from text: every known secret (longest first, so a password that
 * contains another is replaced whole), every URL's password ({@link redactUrl}), and
 * `password=…` parameters. Use on every message, error and log line that may quote a URL.
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
 *   `scheme://host…`, since where the password ends is then anybody's guess;
 * - text without `scheme://` but with an `@`: `***@host…`.
 * `password=` query parameters are masked too.
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[0]
  // Not a URL at all (`user:pw@host/db`, `postgres:/…`, `postgres//…`): nothing before the last
  // `@` can be told apart from a password, so none of it is shown.
  if (!scheme) return url.includes('@') ? `***${url.slice(url.lastIndexOf('@'))}` : url
  const rest = url.slice(scheme.length)
  const at = rest.lastIndexOf('@')
  const masked = (text: string) => text.replace(/((?:^|[?&])password=)[^&#]*/gi, '$1***')
  if (at === -1) return scheme + masked(rest)
  const userInfo = rest.slice(0, at)
  const host = masked(rest.slice(at + 1))
  try {
    parseQuietly(url)
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
 */
export function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return parseQuietly(url).password || undefined
  } catch {
    return undefined
  }
}

/**
 * Throws (code `ERR_INVALID_URL`, the URL never quoted) when a URL's password seems to hold a
 * raw `/`, `?` or `#`: an `@` after the point where a URL parser ends the host part, before
 * any `=` of a query. pg would read the first part as the password and the rest as the host,
 * path or query: it would send part of the password to another host (a DNS lookup at least)
 * and quote that "host" in its error. Such a URL is refused before any connection.
 */
export function assertUnambiguousUrl(url: string): void {
  const scheme = SCHEME.exec(url)?.[0]
  if (!scheme) return
  const rest = url.slice(scheme.length)
  const end = rest.search(/[/?#]/)
  if (end === -1) return
  const after = rest.slice(end)
  const at = after.indexOf('@')
  if (at === -1) return
  const equals = after.indexOf('=')
  if (equals !== -1 && equals < at) return
  throw Object.assign(
    new TypeError(
      'the URL cannot be read: its password seems to contain a raw /, ? or # (percent-encode them: %2F, %3F, %23)',
    ),
    { code: 'ERR_INVALID_URL' },
  )
}

/**
 * The password of a URL in every form it may be printed in: as pg reads it
 * (pg-connection-string), and as written, the user-info taken up to the LAST `@` of the URL
 * (so a raw `@`, `/`, `#`, `?`, `:` or space in the password stays in it), raw and decoded.
 */
export function urlSecrets(url: string): string[] {
  const found = new Set<string>()
  const decoded = passwordOf(url)
  if (decoded) found.add(decoded)
  // Without `scheme://`, everything before the last `@` is the user-info (and maybe a mangled scheme).
  const authority = (/^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(url.trim()) ?? /^(.*)@/s.exec(url.trim()))?.[1]
  const colon = authority?.indexOf(':') ?? -1
  if (authority && colon !== -1) {
    const raw = authority.slice(colon + 1)
    if (raw) found.add(raw)
    try {
      found.add(decodeURIComponent(raw))
    } catch {
      // not valid percent-encoding: the raw form is enough
    }
  }
  return [...found].filter((s) => s.length > 0)
}

/**
 * pg-connection-string's reading of a URL without its TLS parameters: with them it prints a
 * nine-line "SECURITY WARNING" for `sslmode=prefer`, `require` or `verify-ca`, reads the
 * certificate files, or throws for `verify-ca` without a root certificate; none of which
 * concerns finding the user and password. Cut as text, so nothing else is re-encoded.
 */
function parseQuietly(url: string): ReturnType<typeof parse> {
  const query = url.indexOf('?', url.lastIndexOf('@') + 1)
  if (query === -1) return parse(url)
  const hash = url.indexOf('#', query)
  const end = hash === -1 ? url.length : hash
  const kept = url
    .slice(query + 1, end)
    .split('&')
    .filter((pair) => !TLS_PARAMETERS.includes(safeDecode(pair.split('=')[0]!).toLowerCase()))
  return parse(`${url.slice(0, query)}${kept.length > 0 ? `?${kept.join('&')}` : ''}${url.slice(end)}`)
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
