import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessServer, register } from '@pulse/testing';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.ts';
import { SqliteStore } from '../../src/edge/storage/sqlite-store.ts';

describe('server faults', () => {
  it('answers INTERNAL (no details) when storage fails unexpectedly, and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-faults-'));
    const real = new SqliteStore(join(dir, 'f.db'));
    let failing = false;
    // The real store, with one method made to fail on demand (a disk error, say).
    const store = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (failing && property === 'listDevices') throw new Error('disk I/O error at /secret/path');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    const server = InProcessServer.start({ store });
    try {
      const dial = server.dial();
      const alice = await register(dial);
      failing = true;
      const answer = await alice.client.request({ type: 'device_list', id: 0 });
      expect(answer).toMatchObject({ type: 'error', code: 'INTERNAL', message: 'internal server error' });
      failing = false;
      await alice.client.expect({ type: 'device_list', id: 0 }, 'devices');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
