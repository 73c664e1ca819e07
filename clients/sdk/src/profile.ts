import type { ConversationKey } from './conversation-id.ts';
import type { StoredDeviceList } from './device-lists.ts';
import { PulseError } from './errors.ts';
import { PROFILE_MAGIC, ProfileEncoder } from './profile-encoder.ts';
import type { SealedSenderRecord } from './sealed-sender.ts';
import type { StateVault } from './store/vault.ts';
import type { TransportMemory } from './transport/negotiate.ts';
import type { TransportKind } from './transport/types.ts';

/** A message in local history. */
export interface StoredMessage {
  readonly id: string;
  /** The conversation's key (conversation-id.ts): `user:<account>` for 1:1, `group:<id>` for groups. */
  readonly conversation: ConversationKey;
  readonly from: string;
  readonly fromDevice: number;
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly direction: 'in' | 'out';
  /**
   * Outgoing: 'pending' until the server stored it, then 'sent', 'delivered' once a
   * recipient device confirmed; 'failed' when the server refused it.
   */
  status?: 'pending' | 'sent' | 'delivered' | 'failed';
  readonly group?: string;
}

/**
 * What the profile knows about another account (README "Trust"): its account
 * identity key, pinned on first use, and the highest signed device list seen.
 */
export interface ContactRecord {
  /** deviceId → base64 identity key, as the accepted device list gives it. */
  devices: Record<string, string>;
  /** The user compared safety numbers and confirmed them. */
  verified: boolean;
  /**
   * Profiles written before account identities: a device presented a different key. Still blocks
   * sending until accepted; nothing new is recorded here.
   */
  changed: Record<string, string>;
  /** The account identity key (base64), pinned on first use or accepted by the user. */
  accountKey?: string;
  /** The highest device list seen that `accountKey` signed. */
  deviceList?: StoredDeviceList;
  /** A different account identity key the server presented; sending stops until the user accepts it. */
  changedAccountKey?: string;
  /** The device list signed by `changedAccountKey`. */
  changedDeviceList?: StoredDeviceList;
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

/**
 * Everything a profile stores, as one JSON object (the stored form: field names
 * and shapes never change meaning). Each part has one owner that reads and
 * writes it; client.ts hands each owner its part:
 *
 * | part | owner |
 * | --- | --- |
 * | `server`, `account`, `deviceId`, `deviceName`, `accountIdentity`, `deviceList` | Accounts (accounts.ts), as an AccountRecord |
 * | `contacts` | TrustBook (trust.ts) |
 * | `groups` | Groups (groups.ts) |
 * | `conversations`, `unread` | History (history.ts), as a HistoryRecord |
 * | `seenEnvelopes`, `seenMessages` | Inbox (inbox.ts), as a DedupeRecord |
 * | `transportMemory` | the connection, through `transportMemoryIn` |
 */
export interface ProfileState {
  version: 1;
  server: string | undefined;
  account: string | undefined;
  deviceId: number | undefined;
  deviceName: string;
  /** This account's identity key pair (base64 of its serialization); shared by the account's devices. */
  accountIdentity?: string;
  /** This account's signed device list, the highest version seen. */
  deviceList?: StoredDeviceList;
  contacts: Record<string, ContactRecord>;
  groups: Record<string, GroupRecord>;
  /** Conversation key (conversation-id.ts) → its messages, oldest first. */
  conversations: Record<string, StoredMessage[]>;
  /** Envelope ids already processed (acked again, never shown twice). */
  seenEnvelopes: string[];
  /** `account/messageId` of messages already shown: exactly-once display even if a sender resends. */
  seenMessages: string[];
  transportMemory: Record<string, { kind: TransportKind; at: number }>;
  /** `conversation|messageId` of received messages not yet taken by `takeUnread` (oldest first). */
  unread: string[];
  /** Sealed sender (sealed-sender.ts): the pinned trust root, contacts' delivery tokens. Absent in older profiles. */
  sealedSender?: SealedSenderRecord;
}

/** This device's account: who it is and where, its identity and its devices. */
export type AccountRecord = Pick<
  ProfileState,
  'server' | 'account' | 'deviceId' | 'deviceName' | 'accountIdentity' | 'deviceList'
>;
/** Local history and what of it is unread. */
export type HistoryRecord = Pick<ProfileState, 'conversations' | 'unread'>;
/** What was already received, for exactly-once display over at-least-once delivery. */
export type DedupeRecord = Pick<ProfileState, 'seenEnvelopes' | 'seenMessages'>;

export function emptyProfile(deviceName: string): ProfileState {
  return {
    version: 1,
    server: undefined,
    account: undefined,
    deviceId: undefined,
    deviceName,
    contacts: {},
    groups: {},
    conversations: {},
    seenEnvelopes: [],
    seenMessages: [],
    transportMemory: {},
    unread: [],
  };
}

const decoder = new TextDecoder();

/**
 * The bytes a vault stores: the profile as JSON, then the E2E engine's own serialization,
 * unencoded (profile-encoder.ts; a Profile keeps one encoder, which reuses unchanged parts).
 */
export function encodeProfile(state: ProfileState, engine: Uint8Array): Uint8Array {
  return new ProfileEncoder().encode(state, engine);
}

export function decodeProfile(bytes: Uint8Array): { state: ProfileState; engine: Uint8Array } {
  const corrupt = (why: string, cause?: unknown) =>
    new PulseError('PROFILE_CORRUPT', `the profile state is not readable: ${why}`, { cause });
  if (bytes.length < PROFILE_MAGIC.length + 4 || PROFILE_MAGIC.some((b, i) => bytes[i] !== b))
    throw corrupt('unknown format');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(PROFILE_MAGIC.length);
  const start = PROFILE_MAGIC.length + 4;
  if (start + length > bytes.length) throw corrupt('truncated');
  let state: ProfileState;
  try {
    state = JSON.parse(decoder.decode(bytes.subarray(start, start + length))) as ProfileState;
  } catch (cause) {
    throw corrupt('bad JSON', cause);
  }
  if (state?.version !== 1) throw corrupt(`unknown profile version ${String(state?.version)}`);
  return { state, engine: bytes.slice(start + length) };
}

/**
 * Holds the state in memory and writes it, with the engine's state, through the
 * vault. Saves are coalesced: a save starts at the earliest on the next turn of
 * the event loop, and a save requested while another waits or runs is served by
 * the next one, which snapshots everything changed until it starts, so a
 * caller that awaits `save()` knows its changes are stored. A burst of sends or
 * deliveries handled in one turn therefore costs one save, not one each
 * (issue 15). Each save writes the whole state, but what did not change since
 * the last one (the history, the engine's prekeys) is not serialized again
 * (profile-encoder.ts).
 */
export class Profile {
  readonly state: ProfileState;
  readonly #vault: StateVault;
  readonly #savedEngine: Uint8Array | undefined;
  readonly #encoder = new ProfileEncoder();
  #exportEngine: (() => Promise<Uint8Array>) | undefined;
  #saving: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;

  private constructor(vault: StateVault, state: ProfileState, engine: Uint8Array | undefined) {
    this.#vault = vault;
    this.state = state;
    this.#savedEngine = engine;
  }

  static async open(vault: StateVault, deviceName: string): Promise<Profile> {
    const bytes = await vault.load();
    if (bytes === undefined) return new Profile(vault, emptyProfile(deviceName), undefined);
    const { state, engine } = decodeProfile(bytes);
    return new Profile(vault, { ...emptyProfile(deviceName), ...state }, engine);
  }

  /** The engine state as last saved (undefined for a fresh profile). */
  engineState(): Uint8Array | undefined {
    return this.#savedEngine;
  }

  /** Where each save gets the engine's current state. */
  attachEngine(exportState: () => Promise<Uint8Array>): void {
    this.#exportEngine = exportState;
  }

  save(): Promise<void> {
    if (this.#next === undefined) {
      const next = this.#saving.then(nextTurn).then(async () => {
        this.#next = undefined; // changes from here on need another save
        const engine = (await this.#exportEngine?.()) ?? this.#savedEngine ?? new Uint8Array();
        await this.#vault.save(this.#encoder.encode(this.state, engine));
      });
      this.#next = next;
      this.#saving = next.catch(() => {});
    }
    return this.#next;
  }

  async close(): Promise<void> {
    await this.#saving;
    await this.#vault.close();
  }
}

/** Resolves on a later turn of the event loop (after the work queued in this one). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Appends to a bounded list, dropping the oldest entries. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** The connection's memory of which transport worked, per server, kept in the profile. */
export function transportMemoryIn(record: Pick<ProfileState, 'transportMemory'>): TransportMemory {
  return {
    get: (server) => record.transportMemory[server],
    set: (server, entry) => {
      record.transportMemory[server] = entry;
    },
  };
}
