import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the report in a real browser (Debian's chromium, driven by
// playwright-core). Not part of `npm test`: it needs /usr/bin/chromium, which .ci/run installs.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
