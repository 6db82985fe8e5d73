// Races for a stale embedded-folder lock, many rounds: in each, `workers` threads are released
// at the same instant (one futex wake) onto a lock file left by a dead process, each trying once
// without waiting. Prints one JSON line: the number of winners in every round.
// argv: <dataDir> <deadPid> <rounds> <workers>
import { writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { isMainThread, Worker, workerData } from 'node:worker_threads'

import { lockEmbeddedFolder, lockFileOf } from '../../src/connect/index.js'

interface Shared {
  readonly dataDir: string
  readonly rounds: number
  readonly control: SharedArrayBuffer
}

// control[0]: the round released (workers wait for it); control[1]: workers done this round;
// control[2]: winners this round.
if (isMainThread) {
  const [dataDir, deadPid, rounds, workers] = process.argv.slice(2) as [string, string, string, string]
  const control = new SharedArrayBuffer(12)
  const state = new Int32Array(control)
  const threads = Array.from(
    { length: Number(workers) },
    () =>
      new Worker(new URL(import.meta.url), {
        workerData: { dataDir, rounds: Number(rounds), control } satisfies Shared,
      }),
  )
  const winners: number[] = []
  for (let round = 1; round <= Number(rounds); round++) {
    const token = round.toString(16).padStart(24, '0')
    writeFileSync(lockFileOf(dataDir), `${JSON.stringify({ pid: Number(deadPid), host: hostname(), token })}\n`)
    Atomics.store(state, 1, 0)
    Atomics.store(state, 2, 0)
    Atomics.store(state, 0, round)
    Atomics.notify(state, 0)
    while (Atomics.load(state, 1) < threads.length) await new Promise((r) => setTimeout(r, 1))
    winners.push(Atomics.load(state, 2))
  }
  Atomics.store(state, 0, Number(rounds) + 1)
  Atomics.notify(state, 0)
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))))
  process.stdout.write(`${JSON.stringify({ winners })}\n`)
} else {
  const { dataDir, rounds, control } = workerData as Shared
  const state = new Int32Array(control)
  for (let round = 1; round <= rounds; round++) {
    while (Atomics.load(state, 0) < round) Atomics.wait(state, 0, round - 1, 1000)
    const lock = await lockEmbeddedFolder(dataDir, { busyTimeoutMs: 0 }).catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'EMBEDDED_DATABASE_BUSY') throw error
    })
    if (lock) Atomics.add(state, 2, 1)
    Atomics.add(state, 1, 1)
  }
  // A thread that ends releases its lock (the exit hook): stay until every round is counted.
  while (Atomics.load(state, 0) <= rounds) Atomics.wait(state, 0, rounds, 1000)
}
