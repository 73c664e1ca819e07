import type { Address } from '../store.ts';

/**
 * What one node tells the others about a device (cluster mode, several nodes
 * on one store):
 * - `wake`: envelopes for the device were committed; whichever node holds its
 *   session pumps it (delivery reads the queue from the shared store).
 * - `claim`: the device authenticated on `node` at `since` (ms). A device has
 *   one live session cluster-wide: the newest claim wins (ties: the greater
 *   node id), an older session is closed with SESSION_REPLACED.
 * - `frame`: an encoded frame for the device's session (device list changed,
 *   link requested, prekeys low, envelopes expired); `ephemeral` the same for
 *   an `ephemeral` frame (dropped rather than queued, as on one node).
 * - `removed`: the device was removed from its account; its session is closed
 *   with AUTH_FAILED.
 */
export type DeviceNotice =
  | { readonly type: 'wake' }
  | { readonly type: 'claim'; readonly node: string; readonly since: number }
  | { readonly type: 'frame'; readonly bytes: Uint8Array }
  | { readonly type: 'ephemeral'; readonly bytes: Uint8Array }
  | { readonly type: 'removed' };

/** Hearing a device's notices; `ready` settles once the bus delivers them (so none sent after it is missed). */
export interface DeviceSubscription {
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * The port between the nodes of a cluster (edge: NATS core pub/sub,
 * edge/cluster/). A node subscribes to the devices whose sessions it holds and
 * publishes to devices it does not hold. Notices are hints, not data: one that
 * is lost delays a delivery until the device's next pump, `sync` or reconnect,
 * and never loses an envelope (those are in the store before anyone is woken).
 */
export interface DeviceBus {
  /**
   * How long after `ready` a notice published elsewhere may still miss a new
   * subscription (a NATS cluster tells its other servers of the interest
   * asynchronously): the hub pumps the session once more after it. 0: never.
   */
  readonly settleMs: number;
  subscribe(device: Address, onNotice: (notice: DeviceNotice) => void): DeviceSubscription;
  publish(device: Address, notice: DeviceNotice): void;
  /**
   * Called after the bus was cut off and is back (notices sent meanwhile are
   * lost): the hub then pumps every session it holds.
   */
  onResumed(handler: () => void): void;
}

/** One node alone: there is nobody to tell and nobody tells it anything. */
export const singleNodeBus: DeviceBus = {
  settleMs: 0,
  subscribe: () => ({ ready: Promise.resolve(), stop: () => {} }),
  publish: () => {},
  onResumed: () => {},
};
