import { describe, expect, it } from 'vitest';
import { DeviceHub, type DeviceSession } from '../../src/core/hub.ts';
import type { DeviceBus, DeviceNotice } from '../../src/core/ports/device-bus.ts';
import type { Address } from '../../src/core/store.ts';
import { ManualClock, ManualScheduler, settle, silentLogger } from '../helpers/fake-ports.ts';

/**
 * The hub's rules across nodes (core/hub.ts), on an in-memory bus: notices
 * are held until the test delivers them, so "at the same time" is exact.
 */

class MemoryNetwork {
  readonly #subscribers = new Map<string, Set<(notice: DeviceNotice) => void>>();
  readonly #resumed: Array<() => void> = [];
  readonly inFlight: Array<() => void> = [];
  published = 0;
  /** Notices published meanwhile are lost (NATS unreachable). */
  cutOff = false;

  /** DeviceBus.settleMs of every node's bus. */
  settleMs = 0;

  bus(): DeviceBus {
    return {
      settleMs: this.settleMs,
      subscribe: (device, onNotice) => {
        const key = keyOf(device);
        const set = this.#subscribers.get(key) ?? new Set();
        this.#subscribers.set(key, set);
        set.add(onNotice);
        return { ready: Promise.resolve(), stop: () => set.delete(onNotice) };
      },
      publish: (device, notice) => {
        this.published++;
        if (this.cutOff) return;
        const listeners = [...(this.#subscribers.get(keyOf(device)) ?? [])];
        this.inFlight.push(() => {
          for (const listener of listeners) listener(notice);
        });
      },
      onResumed: (handler) => this.#resumed.push(handler),
    };
  }

  /** Delivers every notice sent so far, and those they cause, until none is left. */
  async deliverAll(): Promise<void> {
    await settle();
    while (this.inFlight.length > 0) {
      for (const deliver of this.inFlight.splice(0)) deliver();
      await settle();
    }
  }

  resume(): void {
    for (const handler of this.#resumed) handler();
  }
}

const keyOf = ({ account, deviceId }: Address) => `${account}/${deviceId}`;

class FakeSession implements DeviceSession {
  pumps = 0;
  closedWith: string | undefined;
  readonly frames: Uint8Array[] = [];
  readonly ephemerals: Uint8Array[] = [];
  readonly hub: DeviceHub;
  readonly device: Address;
  constructor(hub: DeviceHub, device: Address) {
    this.hub = hub;
    this.device = device;
  }
  pump(): void {
    this.pumps++;
  }
  notify(bytes: Uint8Array): void {
    this.frames.push(bytes);
  }
  notifyEphemeral(bytes: Uint8Array): void {
    this.ephemerals.push(bytes);
  }
  close(code: string): void {
    this.closedWith = code;
    this.hub.detach(this.device.account, this.device.deviceId, this);
  }
}

function node(network: MemoryNetwork, nodeId: string, clock: ManualClock, scheduler = new ManualScheduler(clock)) {
  return new DeviceHub({ bus: network.bus(), nodeId, clock, scheduler, log: silentLogger });
}

const bob: Address = { account: 'bob', deviceId: 1 };

function attach(hub: DeviceHub, device = bob): FakeSession {
  const session = new FakeSession(hub, device);
  hub.attach(device.account, device.deviceId, session);
  return session;
}

describe('DeviceHub across nodes', () => {
  it('wakes a session on another node, and a local one without publishing', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1_000);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const session = attach(b);
    await network.deliverAll();
    const before = session.pumps;
    a.wake('bob', 1);
    await network.deliverAll();
    expect(session.pumps).toBe(before + 1);
    const published = network.published;
    b.wake('bob', 1);
    expect(session.pumps).toBe(before + 2);
    expect(network.published).toBe(published);
  });

  it('pumps a session once its subscription is in place (envelopes committed elsewhere meanwhile)', async () => {
    const network = new MemoryNetwork();
    const session = attach(node(network, 'a', new ManualClock(1)));
    expect(session.pumps).toBe(0);
    await network.deliverAll();
    expect(session.pumps).toBe(1);
  });

  it('pumps once more settleMs later (interest still crossing a NATS cluster), unless the session left', async () => {
    const network = new MemoryNetwork();
    network.settleMs = 1_000;
    const clock = new ManualClock(1);
    const scheduler = new ManualScheduler(clock);
    const hub = node(network, 'a', clock, scheduler);
    const staying = attach(hub);
    const leaving = attach(hub, { account: 'carol', deviceId: 1 });
    await network.deliverAll();
    expect([staying.pumps, leaving.pumps]).toEqual([1, 1]);
    leaving.close('NORMAL');
    await scheduler.advance(999);
    expect(staying.pumps).toBe(1);
    await scheduler.advance(1);
    expect([staying.pumps, leaving.pumps]).toEqual([2, 1]);
  });

  it('closes the older session when the device authenticates on another node', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1_000);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const older = attach(a);
    await network.deliverAll();
    clock.time = 2_000;
    const newer = attach(b);
    await network.deliverAll();
    expect(older.closedWith).toBe('SESSION_REPLACED');
    expect(newer.closedWith).toBeUndefined();
    expect([a.get('bob', 1), b.get('bob', 1)]).toEqual([undefined, newer]);
    // The closed session no longer hears the device's notices.
    const pumps = older.pumps;
    a.wake('bob', 1);
    await network.deliverAll();
    expect(older.pumps).toBe(pumps);
  });

  it('two nodes attaching at once end with one session, the newer (claims crossed on the way)', async () => {
    const network = new MemoryNetwork();
    const clockA = new ManualClock(5_000);
    const clockB = new ManualClock(4_000);
    const [a, b] = [node(network, 'a', clockA), node(network, 'b', clockB)];
    // Both subscribe before either claim is delivered: each hears the other's claim only.
    const onA = attach(a);
    const onB = attach(b);
    await network.deliverAll();
    expect(onA.closedWith).toBeUndefined();
    expect(onB.closedWith).toBe('SESSION_REPLACED');
  });

  it('on equal times the greater node id wins, on both nodes alike', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(7_000);
    const [low, high] = [node(network, 'node-1', clock), node(network, 'node-2', clock)];
    const onHigh = attach(high);
    const onLow = attach(low);
    await network.deliverAll();
    expect(onHigh.closedWith).toBeUndefined();
    expect(onLow.closedWith).toBe('SESSION_REPLACED');
  });

  it('an older claim heard late is answered with a claim again, which closes that older session', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1_000);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const onB = attach(b);
    clock.time = 500; // a's clock is behind: its session counts as older
    const onA = attach(a);
    await network.deliverAll();
    expect(onA.closedWith).toBe('SESSION_REPLACED');
    expect(onB.closedWith).toBeUndefined();
  });

  it('forwards frames, ephemeral frames and removals to the node holding the session, and handles them locally without publishing', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const onB = attach(b);
    await network.deliverAll();
    a.notify('bob', 1, new Uint8Array([1, 2]));
    await network.deliverAll();
    expect(onB.frames).toEqual([new Uint8Array([1, 2])]);
    const published = network.published;
    b.notify('bob', 1, new Uint8Array([3]));
    expect(onB.frames).toHaveLength(2);
    expect(network.published).toBe(published);
    expect(a.notifyEphemeral('bob', 1, new Uint8Array([4]))).toBe(false);
    expect(b.notifyEphemeral('bob', 1, new Uint8Array([5]))).toBe(true);
    await network.deliverAll();
    expect(onB.ephemerals).toEqual([new Uint8Array([5]), new Uint8Array([4])]);
    a.removed('bob', 1);
    await network.deliverAll();
    expect(onB.closedWith).toBe('AUTH_FAILED');
    expect(b.get('bob', 1)).toBeUndefined();
  });

  it('after the bus was cut off and came back: pumps every session and claims again', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const sessions = [attach(a, { account: 'bob', deviceId: 1 }), attach(a, { account: 'carol', deviceId: 3 })];
    await network.deliverAll();
    // Meanwhile bob authenticated on node B, and a's subscription missed B's claim.
    clock.time = 2;
    network.cutOff = true;
    const onB = attach(b);
    await network.deliverAll();
    network.cutOff = false;
    expect(sessions[0]?.closedWith).toBeUndefined();
    network.resume();
    await network.deliverAll();
    expect(sessions.map((session) => session.pumps)).toEqual([2, 2]);
    expect(sessions[0]?.closedWith).toBe('SESSION_REPLACED');
    expect(onB.closedWith).toBeUndefined();
  });

  it('a newer session of the device on the same node replaces the older one there (one subscription kept)', async () => {
    const network = new MemoryNetwork();
    const clock = new ManualClock(1);
    const [a, b] = [node(network, 'a', clock), node(network, 'b', clock)];
    const first = attach(a);
    clock.time = 2;
    const second = attach(a);
    await network.deliverAll();
    expect(first.closedWith).toBe('SESSION_REPLACED');
    const pumps = second.pumps;
    b.wake('bob', 1);
    await network.deliverAll();
    expect(second.pumps).toBe(pumps + 1);
  });
});
