import type { ProfileState } from '../profile.ts';
import type { ChannelPosition } from './control.ts';

/** What this profile keeps about one encrypted channel (README "Encrypted channels"). */
export interface EncryptedChannelRecord {
  /** The server channel name (`public:…`). */
  readonly channel: string;
  /** 32 hex digits: the Sender Key distribution id every member's key for this channel carries. */
  readonly key: string;
  /** Accounts, this one included: held by the members, never by the server. */
  members: string[];
  /** Device addresses (`account.deviceId`) that hold this device's current sender key. */
  distributedTo: string[];
  /** This account was removed (or left). */
  left: boolean;
  /** Where this device was given access; a first subscription replays from here. */
  access?: ChannelPosition;
  /**
   * The last publication this device processed, saved with the keys that moved past it:
   * a client that restarts resumes from here, and what was published meanwhile decrypts.
   */
  position?: ChannelPosition;
}

/** The profile field the records live in (an addition: older profiles have none, and load unchanged). */
type WithEncryptedChannels = ProfileState & { encryptedChannels?: Record<string, EncryptedChannelRecord> };

/**
 * The profile's encrypted channels, by channel name. The profile is one JSON
 * object that keeps fields it does not name (profile.ts `Profile.open` spreads
 * the stored state), so the records are saved with it; the field is created
 * only with the first record, so profiles without encrypted channels are
 * written back in exactly the form they were read (sdk/test/stored-profile.test.ts).
 */
export class EncryptedChannelRecords {
  readonly #state: WithEncryptedChannels;

  constructor(state: ProfileState) {
    this.#state = state;
  }

  get(channel: string): EncryptedChannelRecord | undefined {
    return this.#state.encryptedChannels?.[channel];
  }

  all(): EncryptedChannelRecord[] {
    return Object.values(this.#state.encryptedChannels ?? {});
  }

  put(record: EncryptedChannelRecord): void {
    this.#state.encryptedChannels ??= {};
    this.#state.encryptedChannels[record.channel] = record;
  }
}
