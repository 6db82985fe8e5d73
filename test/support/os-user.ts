import { readFileSync } from 'node:fs'

/**
 * An OS user's uid and gid from /etc/passwd (Node can switch users but not look them up).
 *
 * @example
 * ```ts
 * osUser('nobody') // { uid: 65534, gid: 65534 }
 * ```
 */
export function osUser(name: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':')
    if (user === name) return { uid: Number(uid), gid: Number(gid) }
  }
  throw new Error(`no OS user ${name} in /etc/passwd`)
}
