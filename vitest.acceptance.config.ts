import { defineConfig } from 'vitest/config';

// Acceptance tests read ../shared (the spec's fixtures); CI runs them after `npm test`.
export default defineConfig({
  test: {
    include: ['test/acceptance/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
