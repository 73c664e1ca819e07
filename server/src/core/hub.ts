import type { Clock } from './ports/clock.ts';
import type { DeviceBus, DeviceNotice, DeviceSubscription } from './ports/device-bus.ts';
import { singleNodeBus } from './ports/device-bus.ts';
import type { Logger } from './ports/logger.ts';
import type { Scheduler } from './ports/scheduler.ts';
import type { StoredEnvelope } from './store.ts';

/** What the hub needs of an authenticated session. */
export interface DeviceSession {
  /** Sends what is pending for this device (as far as flow control allows). */
  pump(): void;
  /** Envelopes just committed for this device, in commit order, to send from memory (delivery.ts); absent: pumped. */
  handOff?(envelopes: readonly StoredEnvelope[]): void;
  /** Sends an encoded frame to this device. */
  notify(bytes: Uint8Array): void;
  /** Sends an encoded `ephemeral` frame: in a datagram when the transport has them, else dropped if the queue is full. */
  notifyEphemeral(bytes: Uint8Array): void;
  close(code: string, reason: string): void;
}

interface Attached {
  readonly session: DeviceSession;
  /** When this session authenticated (its claim). */
  readonly since: number;
  readonly subscription: DeviceSubscription;
}

export interface DeviceHubOptions {
  /** Between the nodes of a cluster (singleNodeBus: one node). */
  readonly bus: DeviceBus;
  /** This node's id in claims (random per process). */
  readonly nodeId: string;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

const REPLACED = 'this device authenticated on another connection';
const REMOVED = 'this device was removed from the account';

/**
 * The authenticated sessions by device. A device has at most one live session,
 * cluster-wide: the newest authentication wins and the older session is
 * closed (SESSION_REPLACED), so envelopes for a device go to one connection.
 *
 * On this node that is a map. Across nodes (DeviceBus): the node holding a
 * session subscribes to its device and claims it; a node hearing a newer
 * claim closes its own session, and a node hearing an older one claims again,
 * so two nodes attaching the same device at once end with one session (the
 * newer). "Newer" is by the nodes' clocks (ties: the greater node id): every
 * node orders claims alike, so they agree on the survivor; with clocks apart by
 * more than the time between two authentications of one device (keep them
 * NTP-synced), the survivor may be the earlier one. `wake` pumps the device's
 * session wherever it is.
 */
export class DeviceHub {
  readonly #sessions = new Map<string, Attached>();
  readonly #bus: DeviceBus;
  readonly #nodeId: string;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;

  constructor(options: DeviceHubOptions) {
    this.#bus = options.bus;
    this.#nodeId = options.nodeId;
    this.#clock = options.clock;
    this.#scheduler = options.scheduler;
    this.#log = options.log;
    // Notices sent while the bus was cut off are lost: what they announced is in the store,
    // and a claim made elsewhere meanwhile is answered by claiming again (the older session closes).
    this.#bus.onResumed(() => {
      for (const [key, attached] of this.#sessions) {
        const [account, deviceId] = splitKey(key);
        this.#claim(account, deviceId, attached);
        attached.session.pump();
      }
    });
  }

  static key(account: string, deviceId: number): string {
    return `${account}\u0000${deviceId}`;
  }

  attach(account: string, deviceId: number, session: DeviceSession): void {
    const key = DeviceHub.key(account, deviceId);
    const previous = this.#sessions.get(key);
    const subscription =
      previous?.subscription ?? this.#bus.subscribe({ account, deviceId }, (notice) => this.#heard(key, notice));
    const attached: Attached = { session, since: this.#clock.now(), subscription };
    this.#sessions.set(key, attached);
    if (previous !== undefined && previous.session !== session) previous.session.close('SESSION_REPLACED', REPLACED);
    subscription.ready.then(
      () => {
        if (this.#sessions.get(key) !== attached) return;
        this.#claim(account, deviceId, attached);
        // Envelopes committed elsewhere before the subscription was in place woke nobody here.
        session.pump();
        const { settleMs } = this.#bus;
        if (settleMs > 0) {
          this.#scheduler.after(settleMs, () => {
            if (this.#sessions.get(key) === attached) session.pump();
          });
        }
      },
      (error: unknown) => this.#log.error({ err: error }, 'cluster: device subscription failed'),
    );
  }

  detach(account: string, deviceId: number, session: DeviceSession): void {
    const key = DeviceHub.key(account, deviceId);
    const attached = this.#sessions.get(key);
    if (attached?.session !== session) return;
    this.#sessions.delete(key);
    attached.subscription.stop();
  }

  /** The session of a device on THIS node. */
  get(account: string, deviceId: number): DeviceSession | undefined {
    return this.#sessions.get(DeviceHub.key(account, deviceId))?.session;
  }

  /** Envelopes for the device were committed: pump its session here, or tell the node that has it. */
  wake(account: string, deviceId: number): void {
    const local = this.get(account, deviceId);
    if (local !== undefined) local.pump();
    else this.#bus.publish({ account, deviceId }, { type: 'wake' });
  }

  /**
   * Envelopes for the device were committed on this node: its session here
   * takes them from memory. In a cluster the device's queue also gets
   * envelopes committed elsewhere, so its session reads them back in the
   * store's order instead (a wake).
   */
  committed(account: string, deviceId: number, envelopes: readonly StoredEnvelope[]): void {
    const local = this.get(account, deviceId);
    if (local?.handOff !== undefined && this.#bus === singleNodeBus) local.handOff(envelopes);
    else this.wake(account, deviceId);
  }

  /** Sends an encoded frame to the device's session, here or on another node (dropped if it has none). */
  notify(account: string, deviceId: number, bytes: Uint8Array): void {
    const local = this.get(account, deviceId);
    if (local !== undefined) local.notify(bytes);
    else this.#bus.publish({ account, deviceId }, { type: 'frame', bytes });
  }

  /**
   * Sends an encoded `ephemeral` frame to the device's session: true if it is
   * on this node; false if not (handed to the other nodes, if any: best effort).
   */
  notifyEphemeral(account: string, deviceId: number, bytes: Uint8Array): boolean {
    const local = this.get(account, deviceId);
    if (local !== undefined) local.notifyEphemeral(bytes);
    else this.#bus.publish({ account, deviceId }, { type: 'ephemeral', bytes });
    return local !== undefined;
  }

  /** The device was removed from its account: its session ends (AUTH_FAILED), wherever it is. */
  removed(account: string, deviceId: number): void {
    const local = this.get(account, deviceId);
    if (local !== undefined) local.close('AUTH_FAILED', REMOVED);
    else this.#bus.publish({ account, deviceId }, { type: 'removed' });
  }

  get size(): number {
    return this.#sessions.size;
  }

  #claim(account: string, deviceId: number, attached: Attached): void {
    this.#bus.publish({ account, deviceId }, { type: 'claim', node: this.#nodeId, since: attached.since });
  }

  #heard(key: string, notice: DeviceNotice): void {
    const attached = this.#sessions.get(key);
    if (attached === undefined) return;
    switch (notice.type) {
      case 'wake':
        attached.session.pump();
        return;
      case 'frame':
        attached.session.notify(notice.bytes);
        return;
      case 'ephemeral':
        attached.session.notifyEphemeral(notice.bytes);
        return;
      case 'removed':
        attached.session.close('AUTH_FAILED', REMOVED);
        return;
    }
    if (notice.node === this.#nodeId) return;
    const [account, deviceId] = splitKey(key);
    if (newer(notice, { node: this.#nodeId, since: attached.since })) {
      attached.session.close('SESSION_REPLACED', REPLACED);
    } else {
      // An older session elsewhere (it attached while our claim was on its way): tell it again.
      this.#claim(account, deviceId, attached);
    }
  }
}

/** The total order of claims: later `since` first, then the greater node id. */
function newer(a: { node: string; since: number }, b: { node: string; since: number }): boolean {
  return a.since !== b.since ? a.since > b.since : a.node > b.node;
}

function splitKey(key: string): [string, number] {
  const cut = key.lastIndexOf('\u0000');
  return [key.slice(0, cut), Number(key.slice(cut + 1))];
}
