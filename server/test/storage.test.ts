import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/storage/sqlite-store.ts';
import { storageSuite } from './storage-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'pulse-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storageSuite('sqlite', () => new SqliteStore(join(dir, `store-${++n}.db`)));

describe('sqlite: files', () => {
  it('keeps committed envelopes across a reopen, in WAL mode', () => {
    const path = join(dir, 'reopen.db');
    const store = new SqliteStore(path);
    store.createAccount('alice', 'a', new Uint8Array(33), 1);
    store.createAccount('bob', 'b', new Uint8Array(33).fill(1), 1);
    const ids = store.enqueue({
      from: { account: 'alice', deviceId: 1 },
      to: 'bob',
      envelopes: [{ deviceId: 1, payload: new Uint8Array([42]) }],
      now: 1,
      expiresAt: 10,
      queueCap: 10,
    });
    store.close();
    const again = new SqliteStore(path);
    expect(again.pending('bob', 1, 0, 10, 2).map((e) => e.envelopeId)).toEqual(ids);
    again.close();
  });
});
