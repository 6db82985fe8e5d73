/**
 * Removes passwords from text: the password of any `scheme://user:password@host` URL, and
 * `password=…` parameters. Use on every message, error and log line that may quote a URL.
 *
 * @example
 * ```ts
 * redact('postgres://app:s3cret@db:5432/x') // 'postgres://app:***@db:5432/x'
 * ```
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  // Known secrets first: a password with an unencoded `@` would otherwise be cut in two by
  // the URL pattern below and only half of it hidden.
  let out = text
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***')
  }
  return out
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@\s]*)@/gi, '$1:***@')
    .replace(/((?:^|[?&\s])password=)[^&\s]*/gi, '$1***')
}

/**
 * The password of a URL, decoded, if it has one (to redact it wherever else it may appear).
 *
 * @example
 * ```ts
 * passwordOf('postgres://u:p%40ss@h/db') // 'p@ss'
 * ```
 */
export function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    const password = new URL(url).password
    return password ? decodeURIComponent(password) : undefined
  } catch {
    return undefined
  }
}
