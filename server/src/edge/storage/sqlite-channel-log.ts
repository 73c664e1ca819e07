import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { LocalFollowers } from '../../core/channels/local-followers.ts';
import type {
  ChannelEntry,
  ChannelLog,
  ChannelLogBudget,
  ChannelPosition,
  ChannelRead,
  ChannelRecord,
  Following,
} from '../../core/ports/channel-log.ts';
import { StoreUnavailable } from '../../core/store.ts';
import { openReadConnection, prepareDatabaseFile } from './sqlite-file.ts';
import { SqliteWriter } from './writer/sqlite-writer.ts';

interface EntryRow {
  ch_offset: number;
  account: string;
  device_id: number;
  server_time: number;
  payload: Buffer;
}

const toEntry = (r: EntryRow): ChannelEntry => ({
  offset: r.ch_offset,
  account: r.account,
  deviceId: r.device_id,
  serverTime: r.server_time,
  payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
});

function prepareReads(db: Database.Database) {
  return {
    head: db.prepare<[string], { epoch: string; last_offset: number }>(
      'SELECT epoch, last_offset FROM channel_heads WHERE channel = ?',
    ),
    following: db.prepare<[string, number, number], { n: number; first: number | null }>(
      `SELECT count(*) AS n, min(ch_offset) AS first FROM channel_log
       WHERE channel = ? AND ch_offset > ? AND server_time >= ?`,
    ),
    entries: db.prepare<[string, number, number, number], EntryRow>(
      `SELECT ch_offset, account, device_id, server_time, payload FROM channel_log
       WHERE channel = ? AND ch_offset > ? AND server_time >= ? ORDER BY ch_offset LIMIT ?`,
    ),
  };
}
type Reads = ReturnType<typeof prepareReads>;

/**
 * Channel history in the server's SQLite file (tables `channel_heads`,
 * `channel_log`: schema.ts migration 6). Writes go to the file's one writer
 * thread, shared with SqliteStore (writer/channel-log-writes.ts): the appends
 * of one event-loop turn travel together and commit in the writer's group
 * commit, and no lock of the file is ever waited for on the event loop. Reads
 * run on a read-only connection of the main thread.
 *
 * Durability: appends commit with synchronous=NORMAL (writer/protocol.ts), so a
 * publication costs a write to the WAL and no fsync: it survives a killed or
 * restarted process (what replay after a restart needs), not a power cut or an
 * OS crash, which may take the last publications and so hand their offsets out
 * again. That is detected, not ignored: the log records the machine's boot id
 * and whether it was closed cleanly (both fsynced); opened after an unclean
 * stop under another boot, every channel gets a new epoch (history may be
 * lost: replays answer recovered=false). Envelopes keep synchronous=FULL.
 * `secure_delete`: trimmed payloads are overwritten, not left in free pages.
 *
 * The epoch of a channel is made with its head row and lives as long as it:
 * trimming keeps the head (offsets continue; replay across the trimmed part
 * says recovered=false), so the epoch changes only when the head itself goes
 * (max_channels_total heads without history, oldest first, never one followed
 * here) or the database is replaced.
 */
export class SqliteChannelLog implements ChannelLog {
  readonly #budget: ChannelLogBudget;
  readonly #followers = new LocalFollowers();
  /** Channels the writer was told this log follows. */
  readonly #followed = new Set<string>();
  readonly #writer: SqliteWriter;
  readonly #opened: Promise<Reads>;
  #db: Database.Database | undefined;
  #reads: Reads | undefined;
  #closed = false;

  constructor(path: string, budget: ChannelLogBudget) {
    this.#budget = budget;
    prepareDatabaseFile(path);
    this.#writer = SqliteWriter.acquire(path);
    this.#opened = this.#writer.call('openChannelLog', currentBootId()).then(() => {
      if (this.#closed) throw new StoreUnavailable('the channel log is closed');
      this.#db = openReadConnection(path);
      this.#reads = prepareReads(this.#db);
      return this.#reads;
    });
    this.#opened.catch(() => {});
  }

  #read(): Reads | Promise<Reads> {
    if (this.#closed) throw new StoreUnavailable('the channel log is closed');
    return this.#reads ?? this.#opened;
  }

  async position(channel: string): Promise<ChannelPosition> {
    const row = (await this.#read()).head.get(channel);
    if (row !== undefined) return { epoch: row.epoch, offset: row.last_offset };
    return this.#writer.call('channelHead', this.#budget, channel);
  }

  /**
   * Appends in the writer's group commit; followers hear of the publication
   * before the append settles, in offset order (replies come back in order).
   */
  async append(channel: string, record: ChannelRecord): Promise<ChannelPosition> {
    if (this.#closed) throw new StoreUnavailable('the channel log is closed');
    const position = await this.#writer.call('appendChannel', this.#budget, channel, record);
    if (this.#followers.has(channel)) this.#followers.tell(channel, { ...record, offset: position.offset });
    return position;
  }

  async read(channel: string, after: number, limit: number, now: number): Promise<ChannelRead> {
    const s = await this.#read();
    const readNow = this.#db!.transaction((): ChannelRead | undefined => {
      const head = s.head.get(channel);
      if (head === undefined) return undefined;
      const position = { epoch: head.epoch, offset: head.last_offset };
      const oldest = now - this.#budget.maxAgeMs;
      const following = s.following.get(channel, after, oldest)!;
      const entries = s.entries.all(channel, after, oldest, limit).map(toEntry);
      const complete =
        following.n === position.offset - after &&
        (following.n === 0 || following.first === after + 1) &&
        entries.length === following.n;
      return { position, entries, complete };
    });
    const read = readNow();
    if (read !== undefined) return read;
    // A channel the log has not heard of: its head (and epoch) is made by the writer, then read.
    const position = await this.#writer.call('channelHead', this.#budget, channel);
    return readNow() ?? { position, entries: [], complete: position.offset === after };
  }

  follow(channel: string, listener: (entry: ChannelEntry) => void): Following {
    const following = this.#followers.follow(channel, listener);
    this.#tellWriter(channel);
    let stopped = false;
    return {
      ready: following.ready,
      stop: () => {
        if (stopped) return;
        stopped = true;
        following.stop();
        this.#tellWriter(channel);
      },
    };
  }

  /** Keeps the writer's view of the followed channels (eviction spares them) in step with this log's. */
  #tellWriter(channel: string): void {
    const followed = this.#followers.has(channel);
    if (followed === this.#followed.has(channel) || this.#closed) return;
    if (followed) this.#followed.add(channel);
    else this.#followed.delete(channel);
    this.#writer.call('followChannel', channel, followed).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#followers.clear();
    for (const channel of this.#followed) this.#writer.call('followChannel', channel, false).catch(() => {});
    this.#followed.clear();
    this.#db?.close();
    try {
      // After this turn's appends (they were sent before it): the log was closed cleanly.
      await this.#writer.call('closeChannelLog');
    } catch {
      // The writer is gone: the mark stays "unclean", as after a crash.
    }
    await this.#writer.release();
  }
}

/** The kernel's id of this boot ('' where there is none: every unclean stop then counts as a power cut). */
function currentBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
