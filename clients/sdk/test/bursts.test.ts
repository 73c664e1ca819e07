import { FrameCodec } from '@pulse/proto';
import { InProcessServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryVault, type PulseClient } from '../src/index.ts';
import { memoryClient, recordingConnection, until } from './helpers.ts';

/**
 * A burst costs per burst, not per message (issue 15 "Speed work"): the
 * sender saves its profile a few times for many texts, and the receiver
 * acknowledges many envelopes in one `deliver_ack`.
 */

let server: InProcessServer;
const clients: PulseClient[] = [];
const codec = new FrameCodec();

beforeAll(() => {
  server = InProcessServer.start();
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

class CountingVault extends MemoryVault {
  saves = 0;
  override async save(state: Uint8Array): Promise<void> {
    this.saves++;
    await super.save(state);
  }
}

const BURST = 30;

describe('a burst of texts', () => {
  it('is saved by the sender a few times in all, and acknowledged by the receiver in a few frames', async () => {
    const vault = new CountingVault();
    const { client: alice } = await memoryClient(server, { vault });
    clients.push(alice);
    await alice.register('burst-alice');
    const sent: Uint8Array[] = [];
    const { client: bob } = await memoryClient(server, { factories: recordingConnection(server, sent) });
    clients.push(bob);
    await bob.register('burst-bob');
    let received = 0;
    bob.on('message', () => received++);
    await alice.sendText('burst-bob', 'hello');
    await until(() => received === 1, 'the first text');
    await bob.idle();

    const savesBefore = vault.saves;
    const acksBefore = sent.length;
    const texts = await Promise.all(Array.from({ length: BURST }, (_, i) => alice.sendText('burst-bob', `text ${i}`)));
    await until(() => received === 1 + BURST, 'the burst');
    await bob.idle();

    expect(texts.every((text) => text.status === 'sent')).toBe(true);
    // Before: three saves per text (ratchet, pending message, status).
    expect(vault.saves - savesBefore).toBeLessThan(BURST / 3);
    const acks = sent
      .slice(acksBefore)
      .map((bytes) => codec.decode(bytes))
      .filter((frame) => frame.type === 'deliver_ack');
    const acked = acks.flatMap((frame) => (frame.type === 'deliver_ack' ? frame.envelopeIds : []));
    expect(new Set(acked).size).toBe(BURST);
    // Before: one `deliver_ack` per envelope.
    expect(acks.length).toBeLessThan(BURST / 3);
  });
});
