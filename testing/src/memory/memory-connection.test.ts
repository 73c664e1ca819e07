import type { Connection, ConnectionAcceptor, ConnectionHandler } from '@pulse/server';
import { describe, expect, it } from 'vitest';
import { MemoryConnection, type MemoryConnectionOptions } from './memory-connection.ts';

const bytes = (...values: number[]) => new Uint8Array(values);
const turn = () => new Promise((resolve) => setImmediate(resolve));
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await turn();
};

/** An acceptor that records what the server side sees, and hands the test its Connection. */
function recordingServer(options: { refuse?: boolean } = {}) {
  const seen = { frames: [] as Uint8Array[], closes: 0, connection: undefined as Connection | undefined };
  const handler: ConnectionHandler = {
    onFrame: (frame) => void seen.frames.push(frame),
    onFramingError: (error) => {
      throw error;
    },
    onClose: () => void seen.closes++,
  };
  const accept: ConnectionAcceptor = (connection) => {
    seen.connection = connection;
    if (!options.refuse) return handler;
    connection.send(bytes(0xc1));
    connection.close('SERVER_BUSY', 'too many connections');
    return undefined;
  };
  return { accept, seen };
}

function recordingClient() {
  const seen = { frames: [] as Uint8Array[], closes: [] as string[] };
  return {
    events: { onFrame: (f: Uint8Array) => void seen.frames.push(f), onClose: (r: string) => void seen.closes.push(r) },
    seen,
  };
}

/** A connection between a recording server and a recording client. */
function recordedPair(options: { refuse?: boolean } = {}, connection: MemoryConnectionOptions = {}) {
  const server = recordingServer(options);
  const client = recordingClient();
  return { server, client, pair: MemoryConnection.open(server.accept, client.events, connection) };
}

describe('MemoryConnection', () => {
  it('carries whole frames in order both ways, never inside the sender’s call', async () => {
    const server = recordingServer();
    const client = recordingClient();
    const pair = MemoryConnection.open(server.accept, client.events, {
      kind: 'webtransport',
      remoteAddress: '192.0.2.7',
    });
    expect(pair.server).toMatchObject({ transport: 'webtransport', remoteAddress: '192.0.2.7' });
    expect(pair.client.kind).toBe('webtransport');
    const labelled = MemoryConnection.open(server.accept, client.events, { serverTransport: 'memory' });
    expect(labelled.server.transport).toBe('memory');
    expect(labelled.client.kind).toBe('websocket');

    pair.client.send(bytes(1, 2, 3));
    pair.client.send(bytes(4));
    pair.server.send(bytes(9, 9));
    expect(server.seen.frames).toEqual([]);
    expect(client.seen.frames).toEqual([]);
    await turn();
    expect(server.seen.frames).toEqual([bytes(1, 2, 3), bytes(4)]);
    expect(client.seen.frames).toEqual([bytes(9, 9)]);
  });

  it('a frame sent back from inside a delivery waits for a later turn', async () => {
    const order: string[] = [];
    let connection: Connection | undefined;
    const accept: ConnectionAcceptor = (c) => {
      connection = c;
      return {
        onFrame: (frame) => {
          order.push(`server got ${frame[0]}`);
          c.send(bytes(frame[0]! + 100));
          order.push(`server answered ${frame[0]}`);
        },
        onFramingError: () => {},
        onClose: () => {},
      };
    };
    const pair = MemoryConnection.open(accept, {
      onFrame: (frame) => void order.push(`client got ${frame[0]}`),
      onClose: () => {},
    });
    expect(connection).toBe(pair.server);
    pair.client.send(bytes(1));
    pair.client.send(bytes(2));
    await turns(3);
    expect(order).toEqual([
      'server got 1',
      'server answered 1',
      'server got 2',
      'server answered 2',
      'client got 101',
      'client got 102',
    ]);
  });

  it('the sender may reuse its buffer: what was sent is what arrives', async () => {
    const { server, client, pair } = recordedPair();
    const shared = bytes(7, 7, 7);
    pair.server.send(shared);
    pair.client.send(shared);
    shared.fill(0);
    await turn();
    expect(client.seen.frames).toEqual([bytes(7, 7, 7)]);
    expect(server.seen.frames).toEqual([bytes(7, 7, 7)]);
  });

  it('bufferedAmount counts the bytes the client has not received; a client that stops reading makes it grow', async () => {
    const { client, pair } = recordedPair();
    pair.server.send(new Uint8Array(100));
    expect(pair.server.bufferedAmount).toBe(100);
    await turn();
    expect(pair.server.bufferedAmount).toBe(0);

    pair.client.pauseReading(); // the client end's own way to stop reading
    for (let i = 0; i < 10; i++) pair.server.send(new Uint8Array(1000));
    await turns(3);
    expect(pair.server.bufferedAmount).toBe(10_000);
    expect(client.seen.frames).toHaveLength(1);
    pair.resumeClient();
    await turn();
    expect(pair.server.bufferedAmount).toBe(0);
    expect(client.seen.frames).toHaveLength(11);

    pair.client.send(new Uint8Array(30));
    expect(pair.clientBufferedAmount).toBe(30);
    await turn();
    expect(pair.clientBufferedAmount).toBe(0);
  });

  it("the server's close delivers what it sent first, passes its code through, and both sides hear of it once", async () => {
    const { server, client, pair } = recordedPair();
    pair.client.send(bytes(5)); // in flight towards a server that is closing: lost
    pair.server.send(bytes(1));
    pair.server.send(bytes(2));
    pair.server.close('SERVER_SHUTDOWN', 'going down');
    pair.server.send(bytes(3)); // after close: dropped
    pair.server.close('NORMAL', 'again');
    await turns(3);
    expect(client.seen.frames).toEqual([bytes(1), bytes(2)]);
    expect(client.seen.closes).toEqual(['memory connection closed by the server (SERVER_SHUTDOWN: going down)']);
    expect(server.seen.frames).toEqual([]);
    expect(server.seen.closes).toBe(1);
    expect(pair.closeState).toEqual({ by: 'server', code: 'SERVER_SHUTDOWN', reason: 'going down' });
    expect(pair.closed).toBe(true);
  });

  it("the client's close delivers what it sent first; what the server still had in flight is lost", async () => {
    const { server, client, pair } = recordedPair();
    pair.server.send(bytes(8));
    pair.client.send(bytes(1));
    pair.client.close();
    pair.client.send(bytes(2));
    pair.client.close();
    await turns(3);
    expect(server.seen.frames).toEqual([bytes(1)]);
    expect(server.seen.closes).toBe(1);
    expect(client.seen.frames).toEqual([]);
    expect(client.seen.closes).toEqual(['memory connection closed by the client']);
  });

  it('a close is heard on a later turn, never inside the closing call', async () => {
    const { server, client, pair } = recordedPair();
    pair.client.close();
    expect(client.seen.closes).toEqual([]);
    expect(server.seen.closes).toBe(0);
    await turn();
    expect(client.seen.closes).toEqual(['memory connection closed by the client']);
    expect(server.seen.closes).toBe(1);
  });

  it('a cut loses everything in flight; both sides hear of it once', async () => {
    const { server, client, pair } = recordedPair();
    pair.server.send(bytes(1));
    pair.client.send(bytes(2));
    pair.cut('cable pulled');
    pair.server.close('NORMAL', 'too late');
    await turns(3);
    expect(client.seen.frames).toEqual([]);
    expect(server.seen.frames).toEqual([]);
    expect(client.seen.closes).toEqual(['memory connection lost: cable pulled']);
    expect(server.seen.closes).toBe(1);
  });

  it('a refused connection: the client gets the close frame the acceptor sent, then onClose', async () => {
    const { server, client, pair } = recordedPair({ refuse: true });
    pair.client.send(bytes(1));
    await turns(2);
    expect(client.seen.frames).toEqual([bytes(0xc1)]);
    expect(client.seen.closes).toEqual(['memory connection closed by the server (SERVER_BUSY: too many connections)']);
    expect(server.seen.closes).toBe(0);
  });
});
