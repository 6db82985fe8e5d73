import { Writable } from 'node:stream'

import { runCli } from '../../src/cli/run-cli.js'
import { cliEnv, ROOT, type CliRun } from './cli-process.js'

/** A stream that keeps what is written to it. */
class Collect extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8')
    done()
  }
}

/**
 * Runs `wukong-migrate` in this process (`runCli`, what the bin calls), without colour: as a
 * subprocess would, minus the seconds a fresh Node process spends loading the SQL parser.
 */
export async function runCliHere(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  cwd: string = ROOT,
): Promise<CliRun> {
  const [stdout, stderr] = [new Collect(), new Collect()]
  const code = await runCli(args, { stdout, stderr, env: cliEnv({ NO_COLOR: '1', ...env }), cwd })
  return { code, stdout: stdout.text, stderr: stderr.text }
}
