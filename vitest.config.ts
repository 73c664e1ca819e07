import { defineConfig } from 'vitest/config';

// One runner for the whole workspace. Integration tests start real servers on
// 127.0.0.1, so they get generous timeouts; speed is measured by `npm run bench:*`,
// never by a test's duration.
export default defineConfig({
  test: {
    include: ['{proto,webtransport,crypto,server,clients,testing,scripts}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
