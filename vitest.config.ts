import { defineConfig } from 'vitest/config'

// Two projects, told apart by the file name:
//   unit  test/**/*.test.ts  `npm test`: the behaviours, within two minutes on 2 cores
//   e2e   test/**/*.e2e.ts   `npm run test:e2e`: the package as apps install and build it (packing,
//                            npm install, the Next.js build, the benchmark at smoke size) and the
//                            reliability trials that repeat runs or wait out real bounds and signals;
//                            slow by nature. `.ci/run` runs both.
// `npx vitest run <file>` finds a file in either project.
export default defineConfig({
  test: {
    // Removes the temporary folders each test file made (test/support/scratch.ts).
    setupFiles: ['test/support/scratch-setup.ts'],
    // Bounds for a hang, far above what a test or hook takes on a loaded 2-core machine; the few
    // that wait longer on purpose set their own.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server, each in its own databases. Three workers on two cores: most
    // test time is spent waiting on the server and on child processes (npm test measured 117 s, against
    // 135 s with two workers and 124 s with four).
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.ts'],
          // Installing next and building an app takes minutes on a loaded machine.
          hookTimeout: 2_400_000,
        },
      },
    ],
  },
})
