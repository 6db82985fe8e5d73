#!/usr/bin/env node
// The package ships TypeScript sources (with `.js` import specifiers), which Node cannot run
// from node_modules on its own: register tsx's loader in this process, then run the CLI.
// In-process rather than a child `node --import tsx`, so signals, stdio and the exit code
// need no forwarding.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/migrate.ts')
