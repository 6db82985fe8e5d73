#!/usr/bin/env -S node --liftoff-only
// --liftoff-only: the SQL parser is a 1 MB WebAssembly module (libpg-query). Once it has parsed
// a few statements, V8 starts optimising its largest functions on background threads, and a
// process does not exit until those compilations finish: about 2 s of CPU after the work is
// done, for code that is never run again. Liftoff (V8's baseline WebAssembly compiler) parses
// migration files fast enough. (V8 freezes its flags at start-up, so the flag must be here.)
import '../dist/cli/migrate.js'
