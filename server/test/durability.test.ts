import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dialWebSocket,
  FrameClientError,
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

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-durability-'));
  dirs.push(dir);
  return dir;
}

/** The server process on `dataDir`, WebSocket only and no web client unless `options` say otherwise; killed after the file. */
async function spawnServer(dataDir: string, options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const server = await spawn({ dataDir, webtransport: false, webClient: false, ...options });
  children.push(server);
  return server;
}

describe('durability (server in a child process)', () => {
  it('loses no acknowledged envelope when the server is killed with SIGKILL mid-stream', async () => {
    const dataDir = tempDir();
    const first = await spawnServer(dataDir);
    const open = dialWebSocket(first.websocketUrl);
    const alice = await register(open);
    const bob = await register(open);
    bob.client.close();
    await bob.client.closed();

    // Pipelined sends (up to 32 outstanding); `acked` holds every envelope the server confirmed.
    const acked = new Map<string, number>();
    let sequence = 0;
    let killed = false;
    const sender = async () => {
      while (!killed) {
        const n = sequence++;
        const payload = new Uint8Array(64).fill(n & 0xff);
        new DataView(payload.buffer).setUint32(0, n);
        const answer = await alice.client
          .request({ type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload }] })
          .catch((error: unknown) => {
            if (error instanceof FrameClientError && error.code === 'CLOSED') return undefined; // died with the server
            throw error;
          });
        if (answer === undefined) return;
        if (answer.type === 'sent') acked.set(answer.envelopeIds[0]!, n);
      }
    };
    const senders = Array.from({ length: 32 }, sender);
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
    first.kill('SIGKILL');
    await Promise.all(senders);
    killed = true;
    expect(await first.exited).toBe('SIGKILL');
    expect(sequence).toBeGreaterThan(acked.size); // some sends were in flight at the kill

    const second = await spawnServer(dataDir);
    await reconnect(dialWebSocket(second.websocketUrl), bob);
    const delivered = new Map<string, number>();
    while (delivered.size < acked.size) {
      const frame = await bob.client.next('deliver');
      delivered.set(frame.envelopeId, new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint32(0));
      bob.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
    }
    for (const [id, n] of acked) expect(delivered.get(id), `acknowledged envelope ${id}`).toBe(n);
    // In order per sender: sequence numbers increase with envelope ids.
    const order = [...delivered.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, n]) => n);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await second.stop()).toBe(0);
  });

  it('stops gracefully on SIGTERM: clients hear SERVER_SHUTDOWN, exit code 0, data kept', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir);
    const open = dialWebSocket(server.websocketUrl);
    const alice = await register(open);
    const bob = await register(open);
    await alice.client.expect(
      { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: new Uint8Array([1]) }] },
      'sent',
    );
    const closing = alice.client.next('close');
    server.kill('SIGTERM');
    expect((await closing).code).toBe('SERVER_SHUTDOWN');
    expect(await server.exited).toBe(0);
    const again = await spawnServer(dataDir);
    await reconnect(dialWebSocket(again.websocketUrl), bob);
    // The envelope delivered before the restart was never acknowledged: it comes again.
    const frame = await bob.client.next('deliver');
    expect(frame.from?.account).toBe(alice.account);
    await again.stop();
  });

  it('prints where it listens and the certificate hash that /pulse/info advertises', async () => {
    const server = await spawnServer(tempDir(), { webtransport: true });
    const printed = server.output();
    expect(printed).toContain(`http://127.0.0.1:${server.httpPort}`);
    const base64 = /certificate sha-256 [0-9a-f]{64} \(base64 ([A-Za-z0-9+/=]+)\)/.exec(printed)?.[1];
    const info = (await (await fetch(`${server.baseUrl}/pulse/info`)).json()) as {
      webtransport: { url: string; serverCertificateHashes: { value: string }[] };
    };
    expect(info.webtransport.serverCertificateHashes[0]!.value).toBe(base64);
    expect(printed).toContain(info.webtransport.url);
    expect(await server.stop()).toBe(0);
  });

  it('refuses to start on a wrong configuration key and names it', async () => {
    const wrong = spawnServer(tempDir(), { config: { limits: { max_conections: 5 } } });
    await expect(wrong).rejects.toThrow(/limits\.max_conections: unknown key/);
  });
});
