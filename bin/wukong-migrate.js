#!/usr/bin/env -S node --liftoff-only
// --liftoff-only: the SQL parser is a 1 MB WebAssembly module (libpg-query). Once it has parsed
// a few statements, V8 starts optimising its largest functions on background threads, and a
// process does not exit until those compilations finish: about 2 s of CPU after the work is
// done, for code that is never run again. Liftoff (V8's baseline WebAssembly compiler) parses
// migration files fast enough. (V8 freezes its flags at start-up, so the flag must be here.)
// The package ships TypeScript sources (with `.js` import specifiers), which Node cannot run
// from node_modules on its own: register tsx's loader in this process, then run the CLI.
// In-process rather than a child `node --import tsx`, so signals, stdio and the exit code
// need no forwarding.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/migrate.ts')
