#!/usr/bin/env node
// No V8 flags here: they cost every command Node's code cache. A command that parses SQL relaunches
// itself with --liftoff-only first (see src/cli/main.ts).
import '../dist/cli/migrate.js'
