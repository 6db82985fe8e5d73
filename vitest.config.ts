import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // The Next.js app (test/nextjs) installs next and builds it: slow, but what apps do.
    include: ['test/**/*.test.ts', 'test/nextjs/**/*.e2e.ts'],
    // Removes the temporary folders each test file made (test/support/scratch.ts).
    setupFiles: ['test/support/scratch-setup.ts'],
    // Bounds for a hang, far above what a test or hook takes on a loaded 2-core machine; the few
    // that wait longer on purpose set their own.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: suites share one PostgreSQL server, each in its own databases.
    maxWorkers: 2,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
