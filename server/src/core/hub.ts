/** What the hub needs of an authenticated session. */
export interface DeviceSession {
  /** Sends what is pending for this device (as far as flow control allows). */
  pump(): void;
  /** Sends an encoded frame to this device. */
  notify(bytes: Uint8Array): void;
  close(code: string, reason: string): void;
}

/**
 * The authenticated sessions by device. A device has at most one live session:
 * the newest authentication wins and the older session is closed, so envelopes
 * for a device always go to exactly one connection.
 */
export class DeviceHub {
  readonly #sessions = new Map<string, DeviceSession>();

  static key(account: string, deviceId: number): string {
    return `${account}\u0000${deviceId}`;
  }

  attach(account: string, deviceId: number, session: DeviceSession): void {
    const key = DeviceHub.key(account, deviceId);
    const previous = this.#sessions.get(key);
    this.#sessions.set(key, session);
    if (previous !== undefined && previous !== session) {
      previous.close('SESSION_REPLACED', 'this device authenticated on another connection');
    }
  }

  detach(account: string, deviceId: number, session: DeviceSession): void {
    const key = DeviceHub.key(account, deviceId);
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
  }

  get(account: string, deviceId: number): DeviceSession | undefined {
    return this.#sessions.get(DeviceHub.key(account, deviceId));
  }

  get size(): number {
    return this.#sessions.size;
  }
}
