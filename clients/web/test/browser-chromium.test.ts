import { BROWSERS } from '@pulse/testing';
import { vi } from 'vitest';
import { webClientSuite } from './web-client-suite.ts';

// The real server process, a real browser: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

webClientSuite(BROWSERS.find((launcher) => launcher.name === 'chromium')!);
