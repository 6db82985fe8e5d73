import { defineConfig } from 'vitest/config'

// `npm run test:nextjs`: the Next.js app alone (installs next, builds, boots); `npm test` runs it too.
export default defineConfig({
  test: {
    include: ['test/nextjs/**/*.e2e.ts'],
    testTimeout: 600_000,
    hookTimeout: 2_400_000,
  },
})
