import { fromBase64, toBase64 } from './base64.ts';
import { PulseError } from './errors.ts';
import type { StateVault } from './store/vault.ts';
import type { TransportKind } from './transport/types.ts';

/** A message in local history. */
export interface StoredMessage {
  readonly id: string;
  /** `user:<account>` for 1:1, `group:<id>` for groups. */
  readonly conversation: string;
  readonly from: string;
  readonly fromDevice: number;
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly direction: 'in' | 'out';
  /** Outgoing: 'sent' once the server stored it, 'delivered' once a recipient device confirmed. */
  status?: 'sent' | 'delivered';
  readonly group?: string;
}

/** What the profile knows about another account: its devices' identity keys (trust on first use). */
export interface ContactRecord {
  /** deviceId → base64 identity key as first seen (or last accepted). */
  devices: Record<string, string>;
  /** The user compared safety numbers and confirmed them. */
  verified: boolean;
  /** A device presented a different identity key; sending is refused until the user accepts it. */
  changed: Record<string, string>;
}

export interface GroupRecord {
  readonly id: string;
  name: string;
  /** Accounts, this one included. */
  members: string[];
  /** Device addresses (`account.deviceId`) that hold this device's current sender key. */
  distributedTo: string[];
  /** This account was removed from the group. */
  left: boolean;
}

export interface ProfileState {
  version: 1;
  server: string | undefined;
  account: string | undefined;
  deviceId: number | undefined;
  deviceName: string;
  /** The E2E engine's exported state (identity, prekeys, sessions, sender keys), base64. */
  engine: string | undefined;
  contacts: Record<string, ContactRecord>;
  groups: Record<string, GroupRecord>;
  conversations: Record<string, StoredMessage[]>;
  /** Envelope ids already processed (acked again, never shown twice). */
  seenEnvelopes: string[];
  /** `account/messageId` of messages already shown: exactly-once display even if a sender resends. */
  seenMessages: string[];
  transportMemory: Record<string, { kind: TransportKind; at: number }>;
  /** `conversation|messageId` of received messages not yet taken by `takeUnread` (oldest first). */
  unread: string[];
}

export function emptyProfile(deviceName: string): ProfileState {
  return {
    version: 1,
    server: undefined,
    account: undefined,
    deviceId: undefined,
    deviceName,
    engine: undefined,
    contacts: {},
    groups: {},
    conversations: {},
    seenEnvelopes: [],
    seenMessages: [],
    transportMemory: {},
    unread: [],
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Holds the state in memory and writes it through the vault, one save at a time. */
export class Profile {
  readonly state: ProfileState;
  readonly #vault: StateVault;
  #saving: Promise<void> = Promise.resolve();

  private constructor(vault: StateVault, state: ProfileState) {
    this.#vault = vault;
    this.state = state;
  }

  static async open(vault: StateVault, deviceName: string): Promise<Profile> {
    const bytes = await vault.load();
    if (bytes === undefined) return new Profile(vault, emptyProfile(deviceName));
    let state: ProfileState;
    try {
      state = JSON.parse(decoder.decode(bytes)) as ProfileState;
    } catch (cause) {
      throw new PulseError('PROFILE_CORRUPT', 'the profile state is not readable', { cause });
    }
    if (state.version !== 1)
      throw new PulseError('PROFILE_CORRUPT', `unknown profile version ${String(state.version)}`);
    return new Profile(vault, { ...emptyProfile(deviceName), ...state });
  }

  /** Saves the current state (with the engine's, when given); saves never interleave. */
  save(engineState?: Uint8Array): Promise<void> {
    if (engineState !== undefined) this.state.engine = toBase64(engineState);
    const bytes = encoder.encode(JSON.stringify(this.state));
    const next = this.#saving.then(() => this.#vault.save(bytes));
    this.#saving = next.catch(() => {});
    return next;
  }

  engineState(): Uint8Array | undefined {
    return this.state.engine === undefined ? undefined : fromBase64(this.state.engine);
  }

  async close(): Promise<void> {
    await this.#saving;
    await this.#vault.close();
  }
}

/** Appends to a bounded list, dropping the oldest entries. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
