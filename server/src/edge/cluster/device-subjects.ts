import { createHmac } from 'node:crypto';
import type { Address } from '../../core/store.ts';

/**
 * The NATS subject of a device's notices: `<prefix>.device.<token>`, the
 * token a keyed hash (HMAC-SHA256, 128 bits, base64url) of account and device
 * id. One subject per device, not per node: NATS routes a notice to the one
 * node subscribed (the node holding the session) with no directory of who is
 * where to keep up to date, and to nobody when the device is offline.
 *
 * What the names show the NATS operator: how many devices each Pulse node
 * serves, when each connects and disconnects, and how often each is woken
 * (how many sends reach it, and when); not account names, device ids or
 * anything of the messages. Who talks to whom can still be guessed from timing.
 */
export class DeviceSubjects {
  readonly #prefix: string;
  readonly #key: Uint8Array;

  constructor(prefix: string, key: Uint8Array) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(prefix))
      throw new Error(`invalid NATS subject prefix ${JSON.stringify(prefix)}`);
    this.#prefix = prefix;
    this.#key = key;
  }

  of({ account, deviceId }: Address): string {
    const token = createHmac('sha256', this.#key).update(`${account}\u0000${deviceId}`).digest().subarray(0, 16);
    return `${this.#prefix}.device.${token.toString('base64url')}`;
  }
}
