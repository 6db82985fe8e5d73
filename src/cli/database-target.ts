import { embeddedDataDir } from '../connect/embedded-settings.js'
import { redact, redactUrl, urlSecrets } from '../connect/redact.js'
import { DATABASE_URL_VARIABLES, resolveDatabaseUrl } from '../connect/resolve-database-url.js'

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
 */
export function databaseTarget(
  urlOption: string | undefined,
  env: NodeJS.ProcessEnv,
  embedded = false,
): DatabaseTarget {
  const { url, source } = embedded ? { url: undefined, source: 'embedded' } : resolveDatabaseUrl(urlOption, env)
  if (source === 'embedded' || !url)
    return Object.freeze({ source: 'embedded', url: null, dataDir: embeddedDataDir(env) })
  return Object.freeze({
    source: source === 'option' ? '--url' : source,
    url: redact(redactUrl(url), urlSecrets(url)),
    dataDir: null,
  })
}

/**
 * Every password the CLI must never print: those of `--url`-like arguments and of every URL
 * variable, decoded and as written (percent-encoded), so `redact` finds them anywhere, not
 * only inside a URL.
 */
export function knownSecrets(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const urls = [...argv.filter((a) => a.includes('://')), ...DATABASE_URL_VARIABLES.map((name) => env[name])]
  return [...new Set(urls.flatMap((u) => (u ? urlSecrets(u) : [])))]
}
