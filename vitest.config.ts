import { defineConfig } from 'vitest/config';

// `npm test`: everything that runs on a clone with nothing beside it.
// The acceptance tests (they read ../shared), the crash tests (minutes of killed child processes)
// and the browser test (it needs chromium) have their own configs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/acceptance/**', 'test/crash/**', 'test/browser/**', 'node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
