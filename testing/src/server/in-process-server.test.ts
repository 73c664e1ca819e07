import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameClient } from '../protocol/frame-client.ts';
import { InProcessServer } from './in-process-server.ts';

let server: InProcessServer;

beforeAll(() => {
  server = InProcessServer.start();
});
afterAll(async () => {
  await server.stop();
});

describe('InProcessServer', () => {
  it('keeps its state in a SQLite file in its data directory, and logs what it does', async () => {
    const client = await FrameClient.open(server.dial());
    await client.register('in-process-logged');
    expect(existsSync(join(server.dataDir, 'pulse.db'))).toBe(true);
    // Info-level logs name what happened, never who (no per-account login history: issue 11).
    expect(server.logs()).toContain('"msg":"account registered"');
    expect(server.logs()).not.toContain('in-process-logged');
    expect(await server.metrics()).toMatch(/pulse_connections_total\{transport="websocket"\} [1-9]/);
    client.close();
    await client.closed();
  });

  it('a client that stops reading fills the server’s buffer and is closed as a slow consumer', async () => {
    const small = InProcessServer.start({ limits: { sendQueueBytes: 64 * 1024 } });
    let connection: ReturnType<InProcessServer['connect']> | undefined;
    const reader = await FrameClient.open((events) => {
      connection = small.connect(events);
      return connection.client;
    });
    await reader.register('slow-reader');
    reader.send({ type: 'subscribe', id: reader.nextId(), channel: 'public:firehose' });
    await reader.next('subscribed');
    const writer = await FrameClient.open(small.dial());
    await writer.register('fast-writer');
    const publish = async () => {
      writer.send({
        type: 'publish',
        id: writer.nextId(),
        channel: 'public:firehose',
        payload: new Uint8Array(16_384),
      });
      await writer.next('published');
    };

    connection!.pauseClient();
    for (let i = 0; i < 3; i++) await publish();
    expect(connection!.server.bufferedAmount).toBeGreaterThan(3 * 16_384);
    expect(reader.isClosed).toBe(false);
    for (let i = 0; i < 2; i++) await publish();
    await reader.closed();
    expect(reader.inbox.at(-1)).toMatchObject({ type: 'close', code: 'SLOW_CONSUMER' });
    // What was buffered before the overflow still arrived, in order, before the close.
    expect(reader.inbox.filter((frame) => frame.type === 'channel_message')).toHaveLength(3);
    await small.stop();
  });

  it('stop() closes every session with SERVER_SHUTDOWN and refuses new connections', async () => {
    const own = InProcessServer.start();
    const client = await FrameClient.open(own.dial());
    await client.hello();
    expect(own.sessionCount).toBe(1);
    await own.stop();
    await client.closed();
    expect(client.inbox.at(-1)).toMatchObject({ type: 'close', code: 'SERVER_SHUTDOWN' });
    expect(() => own.connect({ onFrame: () => {}, onClose: () => {} })).toThrow(/stopped/);
    expect(existsSync(own.dataDir)).toBe(false);
  });
});
