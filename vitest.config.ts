import { defineConfig } from 'vitest/config';

const ALL = ['{proto,webtransport,crypto,server,clients,testing,scripts}/**/*.test.ts'];

/**
 * Tests that start something real — server processes, sockets on 127.0.0.1,
 * browsers, an in-process server with its SQLite file and timers — each get a
 * fresh worker process, so nothing one leaves running can touch the next.
 */
const INTEGRATION = [
  'clients/*/test/**/*.test.ts',
  'server/test/*.test.ts',
  'server/test/conformance/**/*.test.ts',
  'server/test/behaviour/**/*.test.ts',
  'server/test/edge/http.test.ts',
  'webtransport/test/node/{chromium,hostile,node-client}.test.ts',
  'crypto/test/browser.test.ts',
  'scripts/test/**/*.test.ts',
  'testing/src/server/**/*.test.ts',
];

// One runner for the whole workspace. Integration tests get generous timeouts; speed
// is measured by `npm run bench:*`, never by a test's duration.
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default leaves one of two cores idle; the suite waits mostly on child
    // processes, browsers and sockets, so two forks keep both busy.
    maxWorkers: 2,
    projects: [
      // Pure unit tests share their workers: no module is loaded twice.
      {
        extends: true,
        test: { name: 'unit', include: ALL, exclude: ['**/node_modules/**', ...INTEGRATION], isolate: false },
      },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
    ],
  },
});
