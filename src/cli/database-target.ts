import { DATABASE_URL_VARIABLES, embeddedDataDir, passwordOf, redact, resolveDatabaseUrl } from '../connect/index.js'

/** The database a command will use, as it may be shown: the URL is already redacted. */
export interface DatabaseTarget {
  /** `--url`, the environment variable that supplied the URL, or `embedded`. */
  readonly source: string
  /** The URL with its password replaced by `***`; null for the embedded database. */
  readonly url: string | null
  /** The embedded database's folder; null for a server. */
  readonly dataDir: string | null
}

/**
 * Which database a command connects to, decided exactly as the runner decides it
 * (`resolveDatabaseUrl`; `--embedded` picks the embedded database), so messages can name it
 * before any connection is tried.
 *
 * @example
 * ```ts
 * databaseTarget(undefined, { POSTGRES_URL: 'postgres://app:pw@db/x' })
 * // { source: 'POSTGRES_URL', url: 'postgres://app:***@db/x', dataDir: null }
 * ```
 */
export function databaseTarget(urlOption: string | undefined, env: NodeJS.ProcessEnv, embedded = false): DatabaseTarget {
  const { url, source } = embedded ? { url: undefined, source: 'embedded' } : resolveDatabaseUrl(urlOption, env)
  if (source === 'embedded' || !url) return Object.freeze({ source: 'embedded', url: null, dataDir: embeddedDataDir(env) })
  return Object.freeze({ source: source === 'option' ? '--url' : source, url: redactSecrets(url, urlSecrets(url)), dataDir: null })
}

/**
 * `redact` with the known secrets replaced FIRST: redact's URL pattern stops at the first `@`,
 * so for a password like `p@ss` it would mask `p` and leave `ss` for the secrets pass to miss.
 * Longest secrets go first, so one that contains another is replaced whole.
 *
 * @example
 * ```ts
 * redactSecrets('postgres://u:p@ss@h/db', ['p@ss']) // 'postgres://u:***@h/db'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join('***')
  }
  return redact(out, secrets)
}

/**
 * Every password the CLI must never print: those of `--url`-like arguments and of every URL
 * variable, decoded and as written (percent-encoded), so `redact` finds them anywhere, not
 * only inside a URL.
 *
 * @example
 * ```ts
 * knownSecrets(['status', '--url', 'postgres://u:p%40ss@h/db'], {}) // ['p@ss', 'p%40ss']
 * ```
 */
export function knownSecrets(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const urls = [...argv.filter((a) => a.includes('://')), ...DATABASE_URL_VARIABLES.map((name) => env[name])]
  return [...new Set(urls.flatMap((u) => (u ? urlSecrets(u) : [])))]
}

/**
 * The password of a URL in every form it may be printed in. Also reads URLs that `new URL`
 * rejects (an unencoded `@` or `:` in the password), taking the user-info up to the LAST `@`
 * before the host, where a naive pattern would stop at the first and print the rest.
 *
 * @example
 * ```ts
 * urlSecrets('postgres://u:p@ss@h/db') // ['p@ss']
 * ```
 */
export function urlSecrets(url: string): string[] {
  const found = new Set<string>()
  const decoded = passwordOf(url)
  if (decoded) found.add(decoded)
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url.trim())?.[1]
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
