import { parse } from 'pg-connection-string'

// Kept from pg: a URL's TLS settings would override `ssl`, and its parser warns and reads files for them.
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

// A scheme, `://`, then up to white space or a quote: a raw `@`, `:`, `/`, `#`, `?` in a password stays inside.
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
const PLAIN_USER = /^[^:/?#@\s]+$/

/** Removes passwords from text: the known `secrets` (longest first), URLs' ({@link redactUrl}), `password=…`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join('***')
  }
  return out.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(/((?:^|[?&\s])password=)[^&\s]*/gi, '$1***')
}

// The user-info runs to the LAST `@`; a URL pg cannot parse loses all of it.
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[0]
  // Not a URL (`user:pw@host/db`, `postgres:/…`): nothing before the last `@` is told apart from a password.
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

// pg would take the rest of such a password for a host and quote it in its error.
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

/** A URL's password in every form it may be printed in: as pg reads it, and as written (to the LAST `@`), raw and decoded. */
export function urlSecrets(url: string): string[] {
  const found = new Set<string>()
  try {
    found.add(parseQuietly(url).password ?? '') // decoded, as pg will send it
  } catch {
    // a URL pg cannot read: the forms below
  }
  // Without `scheme://`, everything before the last `@` is the user-info (and maybe a mangled scheme).
  const authority = (/^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(url.trim()) ?? /^(.*)@/s.exec(url.trim()))?.[1]
  const colon = authority?.indexOf(':') ?? -1
  if (authority && colon !== -1) {
    const raw = authority.slice(colon + 1)
    found.add(raw).add(safeDecode(raw))
  }
  return [...found].filter((s) => s.length > 0)
}

// Without the TLS parameters, for which pg-connection-string warns, reads files or throws; cut as text.
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
