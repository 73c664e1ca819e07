/**
 * Durable ingest generator (its own process). Pulse: SENDERS connections
 * pipelining `send` of one envelope to an offline device, OUTSTANDING requests
 * each, counted when `sent` (written after the commit) arrives.
 */
import { serveRequests } from '../lib/ipc.ts';
import { keepAlive, pulseDial, pulseTesting, type Target } from './systems.ts';

type Device = Awaited<ReturnType<Awaited<ReturnType<typeof pulseTesting>>['register']>>;

let recipient: { account: string; deviceId: number } | undefined;
const senders: Device[] = [];

serveRequests({
  async open({ target, senders: count }: { target: Target; senders: number }) {
    const testing = await pulseTesting();
    const dial = await pulseDial(target);
    const offline = await testing.register(dial);
    offline.client.close();
    recipient = { account: offline.account, deviceId: offline.deviceId };
    for (let i = 0; i < count; i++) {
      const sender = await testing.register(dial);
      keepAlive(sender.client);
      senders.push(sender);
    }
  },
  async run({ envelopes, outstanding, bytes }: { envelopes: number; outstanding: number; bytes: number }) {
    const to = recipient;
    if (to === undefined) throw new Error('open first');
    const payload = new Uint8Array(bytes).fill(0x42);
    const perSender = Math.ceil(envelopes / senders.length);
    const started = performance.now();
    await Promise.all(
      senders.map(async (sender) => {
        let next = 0;
        const worker = async () => {
          while (next < perSender) {
            next++;
            await sender.client.expect(
              { type: 'send', id: 0, to: to.account, envelopes: [{ deviceId: to.deviceId, payload }] },
              'sent',
            );
          }
        };
        await Promise.all(Array.from({ length: outstanding }, worker));
      }),
    );
    return (perSender * senders.length) / ((performance.now() - started) / 1000);
  },
  close() {
    for (const s of senders) s.client.close();
  },
});
