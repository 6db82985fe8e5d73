import { defineConfig } from 'vitest/config'

// `npm run test:nextjs`: the Next.js app (installs next, builds, boots), apart from `npm test`.
export default defineConfig({
  test: {
    include: ['test/nextjs/**/*.e2e.ts'],
    testTimeout: 600_000,
    hookTimeout: 2_400_000,
  },
})
