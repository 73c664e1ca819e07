import { type Device, InProcessServer, reconnect, register } from '@pulse/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Whole-conversation property: random interleavings of sends, the recipient going
 * offline and online, partial acknowledgements and `sync`, through the real server
 * (in-process: PulseNode on a SQLite file, in-memory connections).
 * Afterwards a fresh connection of the recipient must receive exactly the
 * envelopes that were sent and not acknowledged, in send order.
 */
type Op = 'send' | 'toggle' | 'ack' | 'sync';

let server: InProcessServer;
beforeAll(() => {
  server = InProcessServer.start({ limits: { authAttempts: 100_000, rate: 100_000, rateBurst: 100_000 } });
});
afterAll(() => server.stop());

async function roundTrip(device: Device): Promise<void> {
  await device.client.exchange({ type: 'ping', nonce: 9 }, 'pong');
}

function drainDeliveries(device: Device): string[] {
  const ids: string[] = [];
  for (const frame of device.client.inbox.splice(0)) if (frame.type === 'deliver') ids.push(frame.envelopeId);
  return ids;
}

describe('delivery model', () => {
  it('delivers every unacknowledged envelope, once acknowledged never again, in order', async () => {
    const dial = server.dial();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Op>('send', 'send', 'toggle', 'ack', 'sync'), { maxLength: 20 }),
        async (ops) => {
          const alice = await register(dial);
          const bob = await register(dial);
          let online = true;
          const sent: string[] = [];
          const acked = new Set<string>();
          const seen: string[] = [];
          for (const op of ops) {
            if (op === 'send') {
              const answer = await alice.client.expect(
                {
                  type: 'send',
                  id: 0,
                  to: bob.account,
                  envelopes: [{ deviceId: 1, payload: new Uint8Array([sent.length]) }],
                },
                'sent',
              );
              sent.push(...answer.envelopeIds);
            } else if (op === 'toggle') {
              if (online) {
                bob.client.close();
                await bob.client.closed();
              } else {
                await reconnect(dial, bob);
              }
              online = !online;
            } else if (online) {
              if (op === 'ack') {
                await roundTrip(bob);
                seen.push(...drainDeliveries(bob));
                const toAck = seen.filter((id) => !acked.has(id)).slice(0, 2);
                if (toAck.length > 0) {
                  bob.client.send({ type: 'deliver_ack', envelopeIds: toAck });
                  for (const id of toAck) acked.add(id);
                }
              } else {
                await bob.client.expect({ type: 'sync', id: 0 }, 'sync_done');
              }
              await roundTrip(bob);
            }
          }
          if (online) {
            bob.client.close();
            await bob.client.closed();
          }
          await reconnect(dial, bob);
          await roundTrip(bob);
          const final = drainDeliveries(bob);
          expect(final).toEqual(sent.filter((id) => !acked.has(id)));
          alice.client.close();
          bob.client.close();
        },
      ),
      { numRuns: 15 },
    );
  });
});
