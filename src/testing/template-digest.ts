import { createHash } from 'node:crypto'
import { readdirSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { packageVersion } from '../provider/package-migration-folder.js'
import { scanMigrationFolder } from '../provider/read-migration-folder.js'

// Bump it when a template's contents change with neither the files nor the package version.
const TEMPLATE_FORMAT = 1

const lastScan = new Map<string, { readonly stats: string; readonly digest: string }>()

// A stat per file when nothing changed, so `vitest --watch` sees every file added, edited or removed.
export function migrationDigest(folder: string): string {
  const stats = folderStats(folder)
  const last = lastScan.get(folder)
  if (last && stats !== undefined && last.stats === stats) return last.digest
  const files = scanMigrationFolder(folder)
  const digest = createHash('sha256')
    .update(`${TEMPLATE_FORMAT}\n${packageVersion().version}\n`)
    .update(
      files.map((f) => `${f.fileName}:${f.checksum}:${f.down?.fileName ?? ''}:${f.down?.checksum ?? ''}`).join('\n'),
    )
    .digest('hex')
    .slice(0, 16)
  if (stats !== undefined) lastScan.set(folder, { stats, digest })
  return digest
}

// Undefined when the folder cannot be listed, so that the scan reports why.
function folderStats(folder: string): string | undefined {
  try {
    const root = realpathSync(folder)
    return readdirSync(root)
      .sort()
      .map((name) => {
        try {
          const s = statSync(join(root, name), { bigint: true })
          return `${name}\t${s.size}\t${s.mtimeNs}\t${s.ctimeNs}\t${s.ino}`
        } catch {
          return `${name}\t-`
        }
      })
      .join('\n')
  } catch {
    return undefined
  }
}
