import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ChannelLogBudget, ChannelPosition, ChannelRecord } from '../../../core/ports/channel-log.ts';
import type { WriteOps } from './protocol.ts';

/** Head rows looked at when one without history must go (max_channels_total). */
const EVICTION_CANDIDATES = 16;

export type ChannelLogWrites = Pick<
  WriteOps,
  'openChannelLog' | 'closeChannelLog' | 'appendChannel' | 'channelHead' | 'followChannel'
>;

/**
 * The channel log's writes (sqlite-channel-log.ts), run in the writer thread
 * on the one write connection of the file: the store's envelopes and the
 * channel log share its write lock, so neither waits for the other's fsync on
 * the main thread. Which channels this process follows is mirrored here
 * (`followChannel`, in request order), so a followed channel's head is never
 * the one evicted.
 */
export function channelLogWrites(db: Database.Database): ChannelLogWrites {
  const followed = new Map<string, number>();
  const s = {
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
    meta: db.prepare<[], { boot_id: string; clean: number }>(
      'SELECT boot_id, clean FROM channel_log_meta WHERE id = 0',
    ),
    markOpen: db.prepare('UPDATE channel_log_meta SET boot_id = ?, clean = 0 WHERE id = 0'),
    markClean: db.prepare('UPDATE channel_log_meta SET clean = 1 WHERE id = 0'),
  };

  /** Forgets the oldest head without history nobody here follows: its epoch goes with it. */
  const dropEmptyHead = (): void => {
    for (const channel of s.emptyHeads.all(EVICTION_CANDIDATES)) {
      if (!followed.has(channel)) {
        s.deleteHead.run(channel);
        return;
      }
    }
  };

  /** The channel's head, made (with a fresh epoch) if missing; inside the caller's transaction. */
  const head = (budget: ChannelLogBudget, channel: string): ChannelPosition => {
    const row = s.head.get(channel);
    if (row !== undefined) return { epoch: row.epoch, offset: row.last_offset };
    if (s.headCount.get()! >= budget.maxChannels) dropEmptyHead();
    const epoch = randomBytes(8).toString('hex');
    s.insertHead.run(channel, epoch);
    return { epoch, offset: 0 };
  };

  return {
    /**
     * After an unclean stop under another boot (or an unknown one) unsynced
     * publications may be gone and their offsets reused: every channel gets a
     * new epoch, so no client takes the new ones for the ones it saw.
     */
    openChannelLog: db.transaction((bootId: string) => {
      const meta = s.meta.get();
      if (meta !== undefined && meta.clean === 0 && (meta.boot_id !== bootId || bootId === '')) {
        db.exec('UPDATE channel_heads SET epoch = lower(hex(randomblob(8)))');
      }
      s.markOpen.run(bootId);
    }),

    closeChannelLog: () => {
      s.markClean.run();
    },

    /** One append: the offset, the entry if its publisher's share allows, the trims. */
    appendChannel: db.transaction((budget: ChannelLogBudget, channel: string, record: ChannelRecord) => {
      const { maxBytesPerAccount, maxEntries, maxAgeMs, maxBytes } = budget;
      const size = record.payload.length;
      const position = head(budget, channel);
      s.bumpHead.run(channel);
      const offset = position.offset + 1;
      // Over its share, the publisher's own oldest entries in this channel go first; else it is not kept.
      const share = () => s.share.get(record.account) ?? 0;
      while (share() + size > maxBytesPerAccount && s.dropOwnOldest.run(record.account, channel).changes > 0) {}
      if (share() + size <= maxBytesPerAccount) {
        s.insertEntry.run(channel, offset, record.account, record.deviceId, record.serverTime, record.payload);
      }
      s.dropUpTo.run(channel, offset - maxEntries);
      s.dropOlder.run(channel, record.serverTime - maxAgeMs);
      while ((s.total.get() ?? 0) > maxBytes && s.dropOldest.run().changes > 0) {}
      return { epoch: position.epoch, offset };
    }),

    channelHead: db.transaction((budget: ChannelLogBudget, channel: string) => head(budget, channel)),

    followChannel: (channel, on) => {
      const n = (followed.get(channel) ?? 0) + (on ? 1 : -1);
      if (n > 0) followed.set(channel, n);
      else followed.delete(channel);
    },
  };
}
