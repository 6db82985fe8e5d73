// A process that takes an embedded database's folder lock, for lock races and crash tests.
// argv: <dataDir> <busyTimeoutMs> [go-file] [--exit|--kill]
// Waits for go-file and the instant it names (so that several children try at once), then prints
// `won <pid>` or `busy <holder pid>`; a winner holds until stdin closes, then releases and prints
// `released`. --exit: a winner calls process.exit without releasing; --kill: it SIGKILLs itself.
import { existsSync, readFileSync } from 'node:fs'

import { EmbeddedDatabaseBusyError, lockEmbeddedFolder } from '../../src/connect/index.js'

const [dataDir, timeout, goFile, mode] = process.argv.slice(2) as [
  string,
  string,
  string | undefined,
  string | undefined,
]
process.stdout.write('ready\n')
if (goFile && goFile !== '-') {
  // The go file holds an instant (ms since the epoch): wait for the file without burning CPU,
  // then spin to that instant, so that every child tries within microseconds of the others.
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  const until = Date.now() + 60_000
  while (!existsSync(goFile)) {
    if (Date.now() > until) throw new Error('no go signal')
    Atomics.wait(sleeper, 0, 0, 2)
  }
  const at = Number(readFileSync(goFile, 'utf8'))
  while (performance.timeOrigin + performance.now() < at) {
    // spin
  }
}
try {
  const lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: Number(timeout) })
  process.stdout.write(`won ${process.pid}\n`)
  if (mode === '--exit') process.exit(0)
  if (mode === '--kill') process.kill(process.pid, 'SIGKILL')
  process.stdin.resume()
  process.stdin.once('end', () => {
    lock.release()
    process.stdout.write('released\n')
  })
} catch (error) {
  if (!(error instanceof EmbeddedDatabaseBusyError)) throw error
  process.stdout.write(`busy ${error.holder?.pid}\n`)
}
