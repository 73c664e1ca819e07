import type {
  ChannelEntry,
  ChannelLog,
  ChannelLogBudget,
  ChannelPosition,
  ChannelRead,
  ChannelRecord,
  Following,
} from '../ports/channel-log.ts';
import { type RandomSource, randomHex } from '../ports/random.ts';
import { LocalFollowers } from './local-followers.ts';

interface ChannelState {
  readonly epoch: string;
  offset: number;
  readonly entries: ChannelEntry[];
}

/**
 * The channel log in this process's memory: what a server without SQLite
 * (tests of other stores) keeps, and the reference the SQLite log is tested
 * against. Nothing survives the process; every restart is a new epoch.
 */
export class MemoryChannelLog implements ChannelLog {
  readonly #budget: ChannelLogBudget;
  readonly #random: RandomSource;
  /** By channel, in creation order (the oldest positions without history go first). */
  readonly #channels = new Map<string, ChannelState>();
  readonly #followers = new LocalFollowers();
  readonly #perAccount = new Map<string, number>();
  #bytes = 0;

  constructor(budget: ChannelLogBudget, random: RandomSource) {
    this.#budget = budget;
    this.#random = random;
  }

  /** Payload bytes kept over all channels. */
  get bytes(): number {
    return this.#bytes;
  }

  async position(channel: string): Promise<ChannelPosition> {
    const state = this.#state(channel);
    return { epoch: state.epoch, offset: state.offset };
  }

  async append(channel: string, record: ChannelRecord): Promise<ChannelPosition> {
    const state = this.#state(channel);
    const entry: ChannelEntry = { ...record, offset: ++state.offset };
    const size = record.payload.length;
    const { maxBytesPerAccount } = this.#budget;
    // Over its share, the publisher's own oldest entries in this channel go first; else it is not kept.
    while (this.#share(record.account) + size > maxBytesPerAccount) {
      const index = state.entries.findIndex((kept) => kept.account === record.account);
      if (index < 0) break;
      this.#forget(state, index);
    }
    if (this.#share(record.account) + size <= maxBytesPerAccount) {
      state.entries.push(entry);
      this.#bytes += size;
      this.#perAccount.set(record.account, this.#share(record.account) + size);
    }
    this.#trim(state, record.serverTime);
    this.#followers.tell(channel, entry);
    return { epoch: state.epoch, offset: state.offset };
  }

  async read(channel: string, after: number, limit: number, now: number): Promise<ChannelRead> {
    const state = this.#state(channel);
    const oldest = now - this.#budget.maxAgeMs;
    const following = state.entries.filter((entry) => entry.offset > after && entry.serverTime >= oldest);
    const entries = following.slice(0, limit);
    const complete =
      following.length === state.offset - after && (following.length === 0 || following[0]!.offset === after + 1);
    return {
      position: { epoch: state.epoch, offset: state.offset },
      entries,
      complete: complete && entries.length === following.length,
    };
  }

  follow(channel: string, listener: (entry: ChannelEntry) => void): Following {
    return this.#followers.follow(channel, listener);
  }

  async close(): Promise<void> {
    this.#followers.clear();
  }

  #state(channel: string): ChannelState {
    let state = this.#channels.get(channel);
    if (state === undefined) {
      if (this.#channels.size >= this.#budget.maxChannels) this.#dropOldestPosition();
      state = { epoch: randomHex(this.#random, 8), offset: 0, entries: [] };
      this.#channels.set(channel, state);
    }
    return state;
  }

  /** Keeps the channel within its count and age, and the log within its bytes (oldest entries anywhere). */
  #trim(state: ChannelState, now: number): void {
    // By offset, as the SQLite log: at most maxEntries offsets back from the head.
    while (state.entries.length > 0 && state.entries[0]!.offset <= state.offset - this.#budget.maxEntries) {
      this.#forget(state, 0);
    }
    const oldest = now - this.#budget.maxAgeMs;
    while (state.entries.length > 0 && state.entries[0]!.serverTime < oldest) this.#forget(state, 0);
    while (this.#bytes > this.#budget.maxBytes) {
      let victim: ChannelState | undefined;
      for (const candidate of this.#channels.values()) {
        const first = candidate.entries[0];
        if (first !== undefined && (victim === undefined || first.serverTime < victim.entries[0]!.serverTime)) {
          victim = candidate;
        }
      }
      if (victim === undefined) return;
      this.#forget(victim, 0);
    }
  }

  /** Forgets the oldest channel position without history and followers: its epoch is gone with it. */
  #dropOldestPosition(): void {
    for (const [name, state] of this.#channels) {
      if (state.entries.length === 0 && !this.#followers.has(name)) {
        this.#channels.delete(name);
        return;
      }
    }
  }

  #forget(state: ChannelState, index: number): void {
    const [entry] = state.entries.splice(index, 1);
    if (entry === undefined) return;
    this.#bytes -= entry.payload.length;
    const left = this.#share(entry.account) - entry.payload.length;
    if (left > 0) this.#perAccount.set(entry.account, left);
    else this.#perAccount.delete(entry.account);
  }

  #share(account: string): number {
    return this.#perAccount.get(account) ?? 0;
  }
}
