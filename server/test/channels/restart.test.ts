import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Device,
  dialWebSocket,
  reconnect,
  register,
  type ServerProcess,
  type SpawnServerOptions,
  spawnServer as spawn,
} from '@pulse/testing';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
const children: ServerProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A server process on `dataDir` (a real SQLite file), WebSocket only. */
async function spawnServer(dataDir: string, options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const server = await spawn({ dataDir, webtransport: false, webClient: false, ...options });
  children.push(server);
  return server;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-channel-restart-'));
  dirs.push(dir);
  return dir;
}

const text = (s: string) => new TextEncoder().encode(s);

async function publish(device: Device, channel: string, payload: Uint8Array): Promise<number> {
  return (await device.client.expect({ type: 'publish', id: 0, channel, payload }, 'published')).offset;
}

/**
 * Durable channel history (issue 14): the server process stops (SIGTERM, or
 * SIGKILL), starts again on the same data directory, and a subscriber coming
 * back with `since` gets what it missed, `recovered: true`, in the same epoch.
 */
describe('channel history across a server restart (child process, SQLite file)', () => {
  for (const stop of ['SIGTERM', 'SIGKILL'] as const) {
    it(`replays the missed publications after a ${stop} restart, recovered=true`, async () => {
      const dataDir = tempDir();
      const channel = 'public:restart';
      const first = await spawnServer(dataDir);
      const reader = await register(dialWebSocket(first.websocketUrl));
      const writer = await register(dialWebSocket(first.websocketUrl));
      const subscribed = await reader.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
      expect(subscribed.offset).toBe(0);
      await publish(writer, channel, text('seen 1'));
      expect((await reader.client.next('channel_message')).offset).toBe(1);
      reader.client.close();
      // Published while the reader is away: what it must get back after the restart.
      await publish(writer, channel, text('missed 2'));
      await publish(writer, channel, text('missed 3'));
      if (stop === 'SIGKILL') first.kill('SIGKILL');
      else await first.stop();
      expect(await first.exited).toBe(stop === 'SIGKILL' ? 'SIGKILL' : 0);

      const second = await spawnServer(dataDir);
      await reconnect(dialWebSocket(second.websocketUrl), reader);
      const back = await reader.client.expect(
        { type: 'subscribe', id: 0, channel, since: { epoch: subscribed.epoch, offset: 1 } },
        'subscribed',
      );
      expect(back).toMatchObject({ epoch: subscribed.epoch, offset: 3, recovered: true });
      const missed = [await reader.client.next('channel_message'), await reader.client.next('channel_message')];
      expect(missed.map((m) => [m.offset, new TextDecoder().decode(m.payload), m.from.account])).toEqual([
        [2, 'missed 2', writer.account],
        [3, 'missed 3', writer.account],
      ]);
      // Offsets go on in the same epoch.
      await reconnect(dialWebSocket(second.websocketUrl), writer);
      expect(await publish(writer, channel, text('after 4'))).toBe(4);
      expect((await reader.client.next('channel_message')).offset).toBe(4);
      await second.stop();
      // The database holds the payload as it was sent (a client's ciphertext would be stored as is).
      expect(readFileSync(join(dataDir, 'pulse.db')).includes(Buffer.from('missed 2'))).toBe(true);
    });
  }

  it('answers recovered=false, same epoch, once the history_size budget trimmed past the offset', async () => {
    const dataDir = tempDir();
    const channel = 'public:budget';
    const options = { limits: { historySize: 2 } };
    const first = await spawnServer(dataDir, options);
    const writer = await register(dialWebSocket(first.websocketUrl));
    const { epoch } = await writer.client.expect({ type: 'subscribe', id: 0, channel }, 'subscribed');
    for (let i = 1; i <= 4; i++) await publish(writer, channel, text(`p${i}`));
    await first.stop();

    const second = await spawnServer(dataDir, options);
    await reconnect(dialWebSocket(second.websocketUrl), writer);
    const beyond = await writer.client.expect(
      { type: 'subscribe', id: 0, channel, since: { epoch, offset: 1 } },
      'subscribed',
    );
    expect(beyond).toMatchObject({ epoch, offset: 4, recovered: false });
    const within = await writer.client.expect(
      { type: 'subscribe', id: 0, channel, since: { epoch, offset: 2 } },
      'subscribed',
    );
    expect(within).toMatchObject({ epoch, offset: 4, recovered: true });
    const replayed = [await writer.client.next('channel_message'), await writer.client.next('channel_message')];
    expect(replayed.map((m) => m.offset)).toEqual([3, 4]);
    await second.stop();
  });
});
