import { defineConfig } from 'vitest/config';

// One runner for the whole workspace. Integration tests start real servers on
// 127.0.0.1, real processes and real browsers, so they get generous timeouts; speed
// is measured by `npm run bench:*`, never by a test's duration.
export default defineConfig({
  test: {
    include: ['{proto,webtransport,crypto,server,clients,testing,scripts}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default leaves one of two cores idle; the suite waits mostly on child
    // processes, browsers and sockets, so two forks keep both busy. Each test file
    // keeps its own process (isolation): nothing one file leaves running can touch
    // the next.
    maxWorkers: 2,
  },
});
