import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
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
import { MIGRATIONS } from './schema.ts';

interface EntryRow {
  ch_offset: number;
  account: string;
  device_id: number;
  server_time: number;
  payload: Buffer;
}

interface PendingAppend {
  readonly channel: string;
  readonly record: ChannelRecord;
  resolve(position: ChannelPosition): void;
  reject(error: unknown): void;
}

const toEntry = (r: EntryRow): ChannelEntry => ({
  offset: r.ch_offset,
  account: r.account,
  deviceId: r.device_id,
  serverTime: r.server_time,
  payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
});

/** Head rows looked at when one without history must go (max_channels_total). */
const EVICTION_CANDIDATES = 16;

/**
 * Channel history in the server's SQLite file (tables `channel_heads`,
 * `channel_log`: schema.ts migration 6), on a connection of its own. It opens
 * the file SqliteStore created (mode 0600) and brings the schema up to date
 * if it is the first.
 *
 * Durability: WAL with synchronous=NORMAL on this connection, so a publication
 * costs a write to the WAL and no fsync: it survives a killed or restarted
 * process (what replay after a restart needs), not a power cut or an OS crash,
 * which may take the last publications and so hand their offsets out again.
 * That is detected, not ignored: the log records the machine's boot id and
 * whether it was closed cleanly; opened after an unclean stop under another
 * boot, every channel gets a new epoch (history may be lost: replays answer
 * recovered=false). Envelopes keep synchronous=FULL on SqliteStore's
 * connection. `secure_delete`: trimmed payloads are overwritten, not left in
 * free pages.
 *
 * The epoch of a channel is made with its head row and lives as long as it:
 * trimming keeps the head (offsets continue; replay across the trimmed part
 * says recovered=false), so the epoch changes only when the head itself goes
 * (max_channels_total heads without history, oldest first) or the database is
 * replaced.
 */
export class SqliteChannelLog implements ChannelLog {
  readonly #db: Database.Database;
  readonly #budget: ChannelLogBudget;
  readonly #followers = new LocalFollowers();
  /** Appends of this turn, written together by `#commit`. */
  readonly #pending: PendingAppend[] = [];
  readonly #stmts;

  constructor(path: string, budget: ChannelLogBudget) {
    this.#budget = budget;
    const db = new Database(path);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    // The open mark is fsynced (below); publications are not.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('secure_delete = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[i]!);
        db.pragma(`user_version = ${i + 1}`);
      })();
    }
    markOpened(db, currentBootId());
    db.pragma('synchronous = NORMAL');
    this.#stmts = {
      head: db.prepare<[string], { epoch: string; last_offset: number }>(
        'SELECT epoch, last_offset FROM channel_heads WHERE channel = ?',
      ),
      headCount: db.prepare<[], number>('SELECT count(*) FROM channel_heads').pluck(),
      insertHead: db.prepare('INSERT INTO channel_heads (channel, epoch, last_offset) VALUES (?, ?, 0)'),
      bumpHead: db.prepare('UPDATE channel_heads SET last_offset = last_offset + 1 WHERE channel = ?'),
      emptyHeads: db
        .prepare<[number], string>(
          `SELECT channel FROM channel_heads h
           WHERE NOT EXISTS (SELECT 1 FROM channel_log l WHERE l.channel = h.channel) ORDER BY rowid LIMIT ?`,
        )
        .pluck(),
      deleteHead: db.prepare('DELETE FROM channel_heads WHERE channel = ?'),
      insertEntry: db.prepare(
        `INSERT INTO channel_log (channel, ch_offset, account, device_id, server_time, payload)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      share: db.prepare<[string], number>('SELECT n FROM channel_log_bytes WHERE account = ?').pluck(),
      total: db.prepare<[], number>('SELECT n FROM channel_log_total WHERE id = 0').pluck(),
      dropOwnOldest: db.prepare(
        `DELETE FROM channel_log WHERE id =
           (SELECT id FROM channel_log WHERE account = ? AND channel = ? ORDER BY id LIMIT 1)`,
      ),
      dropUpTo: db.prepare('DELETE FROM channel_log WHERE channel = ? AND ch_offset <= ?'),
      dropOlder: db.prepare('DELETE FROM channel_log WHERE channel = ? AND server_time < ?'),
      dropOldest: db.prepare('DELETE FROM channel_log WHERE id = (SELECT min(id) FROM channel_log)'),
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

  async position(channel: string): Promise<ChannelPosition> {
    return this.#db.transaction(() => this.#head(channel))();
  }

  /**
   * Appends in the turn's group commit: the appends of one event-loop turn
   * share one transaction (publishes from many connections cost one WAL write).
   */
  append(channel: string, record: ChannelRecord): Promise<ChannelPosition> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ channel, record, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#commit());
    });
  }

  /** Writes the turn's appends in one transaction, then tells the followers and the publishers, in offset order. */
  #commit(): void {
    const batch = this.#pending.splice(0);
    if (batch.length === 0 || !this.#db.open) {
      for (const append of batch) append.reject(new StoreUnavailable('the channel log is closed'));
      return;
    }
    let positions: ChannelPosition[];
    try {
      positions = this.#db.transaction(() => batch.map((append) => this.#appendOne(append.channel, append.record)))();
    } catch (error) {
      for (const append of batch) append.reject(error);
      return;
    }
    batch.forEach((append, i) => {
      const position = positions[i]!;
      if (this.#followers.has(append.channel)) {
        this.#followers.tell(append.channel, { ...append.record, offset: position.offset });
      }
      append.resolve(position);
    });
  }

  /** One append inside the commit's transaction: the offset, the entry if its publisher's share allows, the trims. */
  #appendOne(channel: string, record: ChannelRecord): ChannelPosition {
    const s = this.#stmts;
    const { maxBytesPerAccount, maxEntries, maxAgeMs, maxBytes } = this.#budget;
    const size = record.payload.length;
    const head = this.#head(channel);
    s.bumpHead.run(channel);
    const offset = head.offset + 1;
    // Over its share, the publisher's own oldest entries in this channel go first; else it is not kept.
    const share = () => s.share.get(record.account) ?? 0;
    while (share() + size > maxBytesPerAccount && s.dropOwnOldest.run(record.account, channel).changes > 0) {}
    if (share() + size <= maxBytesPerAccount) {
      s.insertEntry.run(channel, offset, record.account, record.deviceId, record.serverTime, record.payload);
    }
    s.dropUpTo.run(channel, offset - maxEntries);
    s.dropOlder.run(channel, record.serverTime - maxAgeMs);
    while ((s.total.get() ?? 0) > maxBytes && s.dropOldest.run().changes > 0) {}
    return { epoch: head.epoch, offset };
  }

  async read(channel: string, after: number, limit: number, now: number): Promise<ChannelRead> {
    const s = this.#stmts;
    return this.#db.transaction((): ChannelRead => {
      const position = this.#head(channel);
      const oldest = now - this.#budget.maxAgeMs;
      const following = s.following.get(channel, after, oldest)!;
      const entries = s.entries.all(channel, after, oldest, limit).map(toEntry);
      const complete =
        following.n === position.offset - after &&
        (following.n === 0 || following.first === after + 1) &&
        entries.length === following.n;
      return { position, entries, complete };
    })();
  }

  follow(channel: string, listener: (entry: ChannelEntry) => void): Following {
    return this.#followers.follow(channel, listener);
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    // Appends of this turn are written, not dropped.
    this.#commit();
    this.#followers.clear();
    this.#db.pragma('synchronous = FULL');
    this.#db.prepare('UPDATE channel_log_meta SET clean = 1 WHERE id = 0').run();
    this.#db.close();
  }

  /** The channel's head, made (with a fresh epoch) if missing; inside the caller's transaction. */
  #head(channel: string): ChannelPosition {
    const s = this.#stmts;
    const row = s.head.get(channel);
    if (row !== undefined) return { epoch: row.epoch, offset: row.last_offset };
    if (s.headCount.get()! >= this.#budget.maxChannels) this.#dropEmptyHead();
    const epoch = randomBytes(8).toString('hex');
    s.insertHead.run(channel, epoch);
    return { epoch, offset: 0 };
  }

  /** Forgets the oldest head without history nobody here follows: its epoch goes with it. */
  #dropEmptyHead(): void {
    for (const channel of this.#stmts.emptyHeads.all(EVICTION_CANDIDATES)) {
      if (!this.#followers.has(channel)) {
        this.#stmts.deleteHead.run(channel);
        return;
      }
    }
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

/**
 * Notes the log as open under `bootId`. After an unclean stop under another
 * boot (or an unknown one) unsynced publications may be gone and their offsets
 * reused: every channel gets a new epoch, so no client takes the new ones for
 * the ones it saw.
 */
function markOpened(db: Database.Database, bootId: string): void {
  db.transaction(() => {
    const meta = db.prepare('SELECT boot_id, clean FROM channel_log_meta WHERE id = 0').get() as
      | { boot_id: string; clean: number }
      | undefined;
    if (meta !== undefined && meta.clean === 0 && (meta.boot_id !== bootId || bootId === '')) {
      db.exec('UPDATE channel_heads SET epoch = lower(hex(randomblob(8)))');
    }
    db.prepare('UPDATE channel_log_meta SET boot_id = ?, clean = 0 WHERE id = 0').run(bootId);
  })();
}
