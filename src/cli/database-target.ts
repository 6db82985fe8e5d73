import { embeddedDataDir } from '../connect/embedded-settings.js'
import { redact, redactUrl, urlSecrets } from '../connect/redact.js'
import { DATABASE_URL_VARIABLES, resolveDatabaseUrl } from '../connect/resolve-database-url.js'

/** The database a command will use, as it may be shown (the URL redacted). */
export interface DatabaseTarget {
  /** `--url`, the environment variable that supplied the URL, or `embedded`. */
  readonly source: string
  readonly url: string | null
  readonly dataDir: string | null
}

/** Decided as the runner decides it, so messages can name the database before any connection is tried. */
export function databaseTarget(option: string | undefined, env: NodeJS.ProcessEnv, embedded: boolean): DatabaseTarget {
  const { url, source } = embedded ? { url: undefined, source: 'embedded' } : resolveDatabaseUrl(option, env)
  if (source === 'embedded' || !url)
    return Object.freeze({ source: 'embedded', url: null, dataDir: embeddedDataDir(env) })
  return Object.freeze({
    source: source === 'option' ? '--url' : source,
    url: redact(redactUrl(url), urlSecrets(url)),
    dataDir: null,
  })
}

/** Decoded and as written, so `redact` finds a password anywhere, not only inside a URL. */
export function knownSecrets(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const urls = [...argv.filter((a) => a.includes('://')), ...DATABASE_URL_VARIABLES.map((name) => env[name])]
  return [...new Set(urls.flatMap((u) => (u ? urlSecrets(u) : [])))]
}
