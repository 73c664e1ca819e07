import type { ConnectionStatus } from './connection/connection.ts';
import type { ConversationKey } from './conversation-id.ts';
import type { ListedDevice } from './device-lists.ts';
import type { DeviceAddress } from './e2e/engine.ts';
import type { GroupRecord, StoredMessage } from './profile.ts';

export interface ClientEvents {
  message: StoredMessage;
  receipt: { conversation: ConversationKey; ids: readonly string[]; from: string };
  typing: { conversation: ConversationKey; from: string; typing: boolean };
  presence: { account: string; online: boolean; devices: readonly number[] };
  status: ConnectionStatus;
  group: { group: GroupRecord; change: 'created' | 'updated' | 'removed' };
  /** A contact's account identity key changed: sending to it stops until the user accepts (markVerified). */
  identity_changed: { account: string };
  /** An account (a contact, or this one: `own`) signed a device list with a new device. */
  device_added: ListedDevice & { account: string; own: boolean };
  /** An account signed a device list without one of its devices. */
  device_removed: ListedDevice & { account: string; own: boolean };
  /** A device list the server presented was refused (not signed by the pinned key, or older than one seen). */
  device_list_refused: { account: string; code: string; reason: string };
  /** The server lists a device that the account did not sign: it got nothing, and the send failed. */
  untrusted_device: { account: string; deviceId: number };
  /** A new device asks to join this account: the user approves it with the code it shows (`approveLink`). */
  link_request: { linkId: string; deviceId: number; deviceName: string; requestedAt: number };
  /**
   * A publication on a subscribed channel (live, or replayed after a reconnect). On an
   * encrypted channel (`encrypted: true`) `payload` is the decrypted plaintext.
   */
  channel: {
    channel: string;
    offset: number;
    from: DeviceAddress;
    serverTime: number;
    payload: Uint8Array;
    encrypted?: boolean;
  };
  /**
   * A publication on an encrypted channel this device cannot decrypt: published before it
   * was given access, after it was removed, by a non-member, or not encrypted.
   */
  channel_unreadable: { channel: string; offset: number; from: DeviceAddress; reason: string };
  /** This account joined an encrypted channel, its members changed, or this account was removed. */
  encrypted_channel: { channel: string; members: readonly string[]; change: 'joined' | 'updated' | 'removed' };
  /** A resubscription could not replay what was missed (history gone or epoch changed). */
  channel_reset: { channel: string };
  /** A message that could not be processed (undecryptable, malformed); nothing to show, but worth a note. */
  problem: { from: string; reason: string };
}

export type Listener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

/** How the client's parts report events (the client's `Emitter.emit`). */
export type Emit = <K extends keyof ClientEvents>(event: K, value: ClientEvents[K]) => void;

/** Listeners per event; a throwing listener never disturbs the client. */
export class Emitter {
  readonly #listeners = new Map<keyof ClientEvents, Set<(event: never) => void>>();

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<K>)(value);
      } catch {
        // A listener's fault is the listener's.
      }
    }
  }
}
