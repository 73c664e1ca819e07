import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, spawnServer, writeChildConfig } from './helpers/child-server.ts';
import { type Frame, reconnect, register } from './helpers/client.ts';
import { websocketDial } from './helpers/websocket-dial.ts';

const dirs: string[] = [];
const children: ChildServer[] = [];
afterAll(() => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-durability-'));
  dirs.push(dir);
  return dir;
}

describe('durability (server in a child process)', () => {
  it('loses no acknowledged envelope when the server is killed with SIGKILL mid-stream', async () => {
    const dataDir = tempDir();
    const config = writeChildConfig(dataDir);
    const first = await spawnServer(config);
    children.push(first);
    const dial = websocketDial(first.httpPort);
    const alice = await register(dial);
    const bob = await register(dial);
    bob.client.close();
    await bob.client.link.closed;

    // Pipelined sends (up to 32 outstanding); `acked` holds every envelope the server confirmed.
    const acked = new Map<string, number>();
    let sequence = 0;
    let killed = false;
    const sender = async () => {
      while (!killed) {
        const n = sequence++;
        const payload = new Uint8Array(64).fill(n & 0xff);
        new DataView(payload.buffer).setUint32(0, n);
        const answer = await Promise.race([
          alice.client.request({ type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload }] }),
          alice.client.link.closed.then(() => undefined),
        ]);
        if (answer === undefined) return; // the connection died with the server
        if (answer.type === 'sent') acked.set(answer.envelopeIds[0]!, n);
      }
    };
    const senders = Array.from({ length: 32 }, sender);
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
    first.process.kill('SIGKILL');
    await Promise.all(senders);
    killed = true;
    expect(await first.exited).toBe('SIGKILL');
    expect(sequence).toBeGreaterThan(acked.size); // some sends were in flight at the kill

    const second = await spawnServer(config);
    children.push(second);
    await reconnect(websocketDial(second.httpPort), bob);
    const delivered = new Map<string, number>();
    while (delivered.size < acked.size) {
      const frame = (await bob.client.next('deliver')) as Extract<Frame, { type: 'deliver' }>;
      delivered.set(frame.envelopeId, new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint32(0));
      bob.client.send({ type: 'deliver_ack', envelopeIds: [frame.envelopeId] });
    }
    for (const [id, n] of acked) expect(delivered.get(id), `acknowledged envelope ${id}`).toBe(n);
    // In order per sender: sequence numbers increase with envelope ids.
    const order = [...delivered.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, n]) => n);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('stops gracefully on SIGTERM: clients hear SERVER_SHUTDOWN, exit code 0, data kept', async () => {
    const dataDir = tempDir();
    const config = writeChildConfig(dataDir);
    const server = await spawnServer(config);
    children.push(server);
    const dial = websocketDial(server.httpPort);
    const alice = await register(dial);
    const bob = await register(dial);
    await alice.client.expect(
      { type: 'send', id: 0, to: bob.account, envelopes: [{ deviceId: 1, payload: new Uint8Array([1]) }] },
      'sent',
    );
    const closing = alice.client.next('close');
    server.process.kill('SIGTERM');
    expect((await closing).code).toBe('SERVER_SHUTDOWN');
    expect(await server.exited).toBe(0);
    const again = await spawnServer(config);
    children.push(again);
    await reconnect(websocketDial(again.httpPort), bob);
    // The envelope delivered before the restart was never acknowledged: it comes again.
    const frame = await bob.client.next('deliver');
    expect(frame.from.account).toBe(alice.account);
    again.process.kill('SIGTERM');
    await again.exited;
  });

  it('prints where it listens and the certificate hash that /pulse/info advertises', async () => {
    const dataDir = tempDir();
    const config = writeChildConfig(dataDir, '', 'webtransport = true\nwebtransport_port = 0');
    const server = await spawnServer(config);
    children.push(server);
    const printed = server.stdout.join('\n');
    expect(printed).toContain(`http://127.0.0.1:${server.httpPort}`);
    const base64 = /certificate sha-256 [0-9a-f]{64} \(base64 ([A-Za-z0-9+/=]+)\)/.exec(printed)?.[1];
    const info = (await (await fetch(`http://127.0.0.1:${server.httpPort}/pulse/info`)).json()) as {
      webtransport: { url: string; serverCertificateHashes: { value: string }[] };
    };
    expect(info.webtransport.serverCertificateHashes[0]!.value).toBe(base64);
    expect(printed).toContain(info.webtransport.url);
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on a wrong configuration key and names it', async () => {
    const dataDir = tempDir();
    const config = writeChildConfig(dataDir, '[limits]\nmax_conections = 5\n');
    await expect(spawnServer(config)).rejects.toThrow(/limits\.max_conections: unknown key/);
  });
});
