import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary folders each test file made (test/support/scratch.ts).
    setupFiles: ['test/support/scratch-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: suites share one PostgreSQL server, each in its own databases.
    maxWorkers: 2,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
