/**
 * A fan-out load generator (its own process): holds subscribers of every system
 * under test, counting what each system's subscribers receive, and/or the
 * publishers. One system is published to at a time.
 */
import { serveRequests } from '../lib/ipc.ts';
import {
  type Closable,
  openPublisher,
  openSubscriber,
  type Publisher,
  type PubSubSystem,
  type Target,
} from './systems.ts';

/** Subscribers opened at once while setting up (a Pulse registration costs the server a signature check and a commit). */
const SETUP_CONCURRENCY = 16;

class Counter {
  readonly subscribers: Closable[] = [];
  received = 0;
  expected = Number.POSITIVE_INFINITY;
  arrived: (() => void) | undefined;

  readonly count = () => {
    if (++this.received === this.expected) this.arrived?.();
  };
}

const counters = new Map<PubSubSystem, Counter>();
const publishers = new Map<PubSubSystem, Publisher>();

function counter(system: PubSubSystem): Counter {
  let c = counters.get(system);
  if (c === undefined) {
    c = new Counter();
    counters.set(system, c);
  }
  return c;
}

serveRequests({
  async subscribe({ target, count }: { target: Target; count: number }) {
    const c = counter(target.system);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        c.subscribers.push(await openSubscriber(target, c.count));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
    return c.subscribers.length;
  },
  /** Arms the counter: `wait` resolves once every subscriber of `system` here has `messages` more. */
  arm({ system, messages }: { system: PubSubSystem; messages: number }) {
    const c = counter(system);
    c.received = 0;
    c.expected = messages * c.subscribers.length;
  },
  wait({ system, timeoutMs }: { system: PubSubSystem; timeoutMs: number }) {
    const c = counter(system);
    return new Promise<{ received: number; expected: number }>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        c.arrived = undefined;
        resolve({ received: c.received, expected: c.expected });
      };
      const timer = setTimeout(done, timeoutMs);
      c.arrived = done;
      if (c.received >= c.expected) done();
    });
  },
  async publisher({ target }: { target: Target }) {
    publishers.set(target.system, await openPublisher(target));
  },
  /** Publishes `messages` payloads of `bytes`, yielding to the event loop every `batch` so sockets drain. */
  async publish({
    system,
    messages,
    bytes,
    batch,
  }: {
    system: PubSubSystem;
    messages: number;
    bytes: number;
    batch: number;
  }) {
    const publisher = publishers.get(system);
    if (publisher === undefined) throw new Error(`no ${system} publisher`);
    const payload = new Uint8Array(bytes).fill(0x5a);
    for (let i = 0; i < messages; i++) {
      publisher.publish(payload);
      if (i % batch === batch - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  },
  close() {
    for (const c of counters.values()) for (const s of c.subscribers.splice(0)) s.close();
    for (const p of publishers.values()) p.close();
  },
});
