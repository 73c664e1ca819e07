import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelEntry, ChannelLog, ChannelLogBudget } from '../../../src/core/ports/channel-log.ts';

/** Makes a fresh, empty log with `budget`. */
export type ChannelLogFactory = (budget: ChannelLogBudget) => ChannelLog | Promise<ChannelLog>;

/** Budgets a log enforces exactly as the suite counts them (JetStream counts whole messages, no shares, no positions). */
export interface LogCapabilities {
  /** maxBytes counts payload bytes. */
  readonly payloadBytes: boolean;
  /** maxBytesPerAccount is enforced. */
  readonly perAccountShare: boolean;
  /** maxChannels bounds the positions kept. */
  readonly positionBound: boolean;
}

const EVERY_BUDGET: LogCapabilities = { payloadBytes: true, perAccountShare: true, positionBound: true };

/** Waits (bounded) until `done` holds: a log in another process hears appends a moment later. */
async function eventually(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

export const ROOMY: ChannelLogBudget = {
  maxEntries: 100,
  maxAgeMs: 60_000,
  maxBytes: 1 << 20,
  maxBytesPerAccount: 1 << 20,
  maxChannels: 100,
};

const record = (account: string, serverTime: number, size = 10, fill = 0) => ({
  account,
  deviceId: 1,
  serverTime,
  payload: new Uint8Array(size).fill(fill),
});

/**
 * The behaviour every ChannelLog implementation has (ports/channel-log.ts):
 * dense offsets in one epoch, reads after an offset that say whether they are
 * complete, and the budgets (count, age, bytes, per-account share, positions).
 */
export function channelLogSuite(name: string, make: ChannelLogFactory, can: LogCapabilities = EVERY_BUDGET): void {
  describe(`channel log: ${name}`, () => {
    const opened: ChannelLog[] = [];
    const open = async (budget: ChannelLogBudget = ROOMY) => {
      const log = await make(budget);
      opened.push(log);
      return log;
    };
    afterEach(async () => {
      for (const log of opened.splice(0)) await log.close();
    });

    it('gives dense offsets from 1 in one epoch and reads what follows an offset', async () => {
      const log = await open();
      const start = await log.position('public:a');
      expect(start.offset).toBe(0);
      expect(start.epoch).toMatch(/^[0-9a-f]{16}$/);
      for (let i = 1; i <= 3; i++) {
        expect(await log.append('public:a', record('alice', 1000 + i, 4, i))).toEqual({
          epoch: start.epoch,
          offset: i,
        });
      }
      const read = await log.read('public:a', 1, 10, 1010);
      expect(read).toMatchObject({ position: { epoch: start.epoch, offset: 3 }, complete: true });
      expect(read.entries.map((entry) => [entry.offset, entry.payload[0], entry.serverTime])).toEqual([
        [2, 2, 1002],
        [3, 3, 1003],
      ]);
      expect(read.entries[0]).toMatchObject({ account: 'alice', deviceId: 1 });
      expect(await log.read('public:a', 3, 10, 1010)).toMatchObject({ entries: [], complete: true });
      // Another channel has its own offsets and epoch.
      expect((await log.append('public:b', record('bob', 1000))).offset).toBe(1);
    });

    it('is incomplete when asked past the head or for more than the limit', async () => {
      const log = await open();
      for (let i = 0; i < 3; i++) await log.append('public:l', record('alice', 1000));
      expect((await log.read('public:l', 4, 10, 1000)).complete).toBe(false);
      const limited = await log.read('public:l', 0, 2, 1000);
      expect(limited.entries).toHaveLength(2);
      expect(limited.complete).toBe(false);
    });

    it('keeps at most maxEntries per channel: older offsets are gone, not renumbered', async () => {
      const log = await open({ ...ROOMY, maxEntries: 3 });
      for (let i = 0; i < 5; i++) await log.append('public:c', record('alice', 1000));
      expect((await log.read('public:c', 0, 10, 1000)).complete).toBe(false);
      const recent = await log.read('public:c', 2, 10, 1000);
      expect(recent.complete).toBe(true);
      expect(recent.entries.map((entry) => entry.offset)).toEqual([3, 4, 5]);
    });

    it('keeps nothing older than maxAgeMs (at append and at read)', async () => {
      const log = await open({ ...ROOMY, maxAgeMs: 100 });
      await log.append('public:t', record('alice', 1000));
      await log.append('public:t', record('alice', 1050));
      expect((await log.read('public:t', 0, 10, 1100)).complete).toBe(true);
      // At 1101 the first is too old to replay.
      expect((await log.read('public:t', 0, 10, 1101)).complete).toBe(false);
      expect((await log.read('public:t', 1, 10, 1101)).complete).toBe(true);
      await log.append('public:t', record('alice', 1200));
      const read = await log.read('public:t', 0, 10, 1200);
      expect(read.entries.map((entry) => entry.offset)).toEqual([3]);
      expect(read.position.offset).toBe(3);
    });

    if (can.payloadBytes)
      it('keeps at most maxBytes over all channels, forgetting the oldest anywhere first', async () => {
        const log = await open({ ...ROOMY, maxBytes: 250 });
        await log.append('public:old', record('alice', 1000, 100));
        await log.append('public:new', record('bob', 1001, 100));
        await log.append('public:new', record('bob', 1002, 100));
        expect((await log.read('public:old', 0, 10, 1002)).complete).toBe(false);
        expect((await log.read('public:new', 0, 10, 1002)).complete).toBe(true);
      });

    if (can.perAccountShare)
      it("keeps at most maxBytesPerAccount of one account's payloads, sliding its own history or keeping nothing", async () => {
        const log = await open({ ...ROOMY, maxBytesPerAccount: 250 });
        await log.append('public:kept', record('alice', 1000, 100));
        // Mallory's share fills; over it, its own oldest in the channel go first (the newest are kept).
        for (let i = 0; i < 5; i++) await log.append('public:own', record('mallory', 1000, 100));
        expect((await log.read('public:own', 3, 10, 1000)).complete).toBe(true);
        expect((await log.read('public:own', 2, 10, 1000)).complete).toBe(false);
        // In a channel where it has no history, it gets an offset and nothing is kept.
        expect((await log.append('public:spam', record('mallory', 1000, 100))).offset).toBe(1);
        expect((await log.read('public:spam', 0, 10, 1000)).complete).toBe(false);
        // Alice's history was never touched.
        expect((await log.read('public:kept', 0, 10, 1000)).complete).toBe(true);
      });

    it('hears every append of a followed channel in offset order until unfollowed', async () => {
      const log = await open();
      const heard: ChannelEntry[] = [];
      const following = log.follow('public:f', (entry) => heard.push(entry));
      await following.ready;
      await log.append('public:f', record('alice', 1000, 1, 7));
      await log.append('public:other', record('alice', 1000));
      await log.append('public:f', record('alice', 1001, 1, 8));
      await eventually(() => heard.length >= 2);
      expect(heard.map((entry) => [entry.offset, entry.payload[0]])).toEqual([
        [1, 7],
        [2, 8],
      ]);
      following.stop();
      await log.append('public:f', record('alice', 1002));
      await log.append('public:f', record('alice', 1003));
      const last = await log.read('public:f', 3, 10, 1003);
      expect(last.entries).toHaveLength(1);
      expect(heard).toHaveLength(2);
    });

    if (can.positionBound)
      it('keeps at most maxChannels positions: the oldest without history goes, and with it its epoch', async () => {
        const log = await open({ ...ROOMY, maxChannels: 2 });
        const empty = await log.position('public:empty');
        await log.append('public:busy', record('alice', 1000));
        await log.position('public:third');
        // public:empty was forgotten for public:third; public:busy (with history) stays.
        expect((await log.position('public:busy')).offset).toBe(1);
        const again = await log.position('public:empty');
        expect(again.epoch).not.toBe(empty.epoch);
      });
  });
}
