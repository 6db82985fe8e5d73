// A vitest setup file (vitest.config.ts): it runs before each test file, in the file's own
// module graph, so this afterAll belongs to every file and, registered first, runs last.
import { afterAll } from 'vitest'

import { removeScratchDirs } from './scratch.js'

afterAll(() => removeScratchDirs())
