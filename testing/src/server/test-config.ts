import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ServerConfig, type ServerLimits } from '@pulse/server';
import { TEST_LIMITS } from './test-limits.ts';

/** What a test may set on any server it starts (in-process, listening, child process). */
export interface TestServerOptions {
  /** Overrides on top of TEST_LIMITS. */
  readonly limits?: Partial<ServerLimits>;
  /** Heartbeat interval and timeout, in milliseconds. */
  readonly heartbeat?: Partial<ServerConfig['heartbeat']>;
}

/** A new temporary directory for one server's files (`prefix` names the kind of server). */
export function temporaryDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pulse-${prefix}-`));
}

/**
 * The configuration of a server under test: the defaults, TEST_LIMITS and the
 * test's options, its files in `dataDir`, no environment. Checked as the
 * server checks a config file (an unknown key or an ill-typed value throws).
 */
export function testServerConfig(
  dataDir: string,
  options: TestServerOptions,
  sections: Record<string, Record<string, unknown>> = {},
): ServerConfig {
  return loadConfig({
    env: {},
    overrides: {
      // The metrics listener on a free port too: servers under test run side by side.
      metrics: { port: 0 },
      ...sections,
      storage: { path: dataDir },
      limits: { ...TEST_LIMITS, ...options.limits },
      heartbeat: { ...options.heartbeat },
    },
  });
}
