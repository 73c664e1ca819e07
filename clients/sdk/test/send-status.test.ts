import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryVault } from '../src/index.ts';
import { decodeProfile } from '../src/profile.ts';
import { memoryClient } from './helpers.ts';

/**
 * `sendText` resolves once the server stored the text; its `sent` status goes
 * with the next save instead of one the caller waits for (README
 * "Throughput"). It must still reach the vault.
 */

let server: InProcessServer;

beforeAll(() => {
  server = InProcessServer.start();
});
afterAll(async () => {
  await server?.stop();
});

describe('the status of a sent text', () => {
  it('is stored by a later save: after a burst and close(), every text is stored as sent', async () => {
    // Bob is offline: no receipt can mark anything delivered (and save it) meanwhile.
    const { client: bob } = await memoryClient(server);
    await bob.register('status-bob');
    await bob.close();
    const vault = new MemoryVault();
    const { client: alice } = await memoryClient(server, { vault });
    await alice.register('status-alice');

    const texts = await Promise.all(Array.from({ length: 12 }, (_, i) => alice.sendText('status-bob', `text ${i}`)));
    expect(texts.map((text) => text.status)).toEqual(texts.map(() => 'sent'));
    await alice.close();

    const stored = decodeProfile((await vault.load())!).state.conversations['user:status-bob'] ?? [];
    expect(stored.map((m) => [m.text, m.status])).toEqual(texts.map((text) => [text.text, 'sent']));
  });
});
