import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made = new Set<string>()

/**
 * A new empty folder in the OS temp folder, removed when the test file ends (by
 * test/support/scratch-setup.ts, a vitest setup file, after the file's own afterAll hooks).
 *
 * @example
 * ```ts
 * const dir = await scratchDir('wk-migrations-')
 * ```
 */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.add(dir)
  return dir
}

/** Removes every folder {@link scratchDir} made in this test file. */
export async function removeScratchDirs(): Promise<void> {
  const dirs = [...made]
  made.clear()
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })))
}
