import { spawn } from 'node:child_process'

/**
 * Runs a program to completion and returns its stdout; rejects with its stderr on a
 * non-zero exit. No shell is involved.
 *
 * @example
 * ```ts
 * await run('psql', ['-X', '-c', 'select 1', url])
 * ```
 */
export function run(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
      else
        reject(
          new Error(
            `${program} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim() || Buffer.concat(out).toString('utf8').trim()}`,
          ),
        )
    })
  })
}
