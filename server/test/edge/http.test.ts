import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { PROTOCOL_VERSIONS } from '@pulse/proto';
import { ListeningServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('HTTP endpoints', () => {
  let server: ListeningServer;
  let base: string;
  beforeAll(async () => {
    // A web root and an entry to bundle, made in the temp dir before the server starts.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const web = mkdtempSync(join(tmpdir(), 'pulse-web-'));
    mkdirSync(join(web, 'public'));
    writeFileSync(join(web, 'public', 'index.html'), '<!doctype html><title>chat</title>');
    writeFileSync(join(web, 'public', 'style.css'), 'body{}');
    writeFileSync(join(web, 'secret.txt'), 'outside the root');
    writeFileSync(join(web, 'dep.ts'), 'export const greeting: string = "hello from the bundle";');
    writeFileSync(join(web, 'main.ts'), 'import { greeting } from "./dep.ts";\nconsole.log(greeting);');
    server = await ListeningServer.start({ web: { root: join(web, 'public'), entry: join(web, 'main.ts') } });
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(() => server.stop());

  it('serves /pulse/info with CORS for browsers', async () => {
    const response = await fetch(`${base}/pulse/info`, { headers: { origin: 'https://app.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const info = (await response.json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      protocolVersions: [...PROTOCOL_VERSIONS],
      websocket: { url: `ws://127.0.0.1:${server.httpPort}/pulse/ws` },
      webtransport: null,
    });
    const preflight = await fetch(`${base}/pulse/info`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers /healthz on the client port and on the metrics listener', async () => {
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    expect(await (await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`)).text()).toBe('ok\n');
  });

  it('serves /metrics (Prometheus text) on the metrics listener only, not on the client port', async () => {
    expect(server.metricsPort).not.toBe(server.httpPort);
    const metrics = await fetch(server.metricsUrl);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of [
      'pulse_connections_total',
      'pulse_connections_active',
      'pulse_messages_total',
      'pulse_messages_bytes',
      'pulse_channels_active',
      'pulse_latency_seconds',
      'pulse_connections_unauthenticated',
      'pulse_partial_frame_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    const onClientPort = await fetch(`${base}/metrics`);
    expect(onClientPort.status).toBe(404);
    expect(await onClientPort.text()).not.toContain('# TYPE');
  });

  it('serves the web client: static files, the bundled /app.js, nothing outside the root', async () => {
    const index = await fetch(`${base}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>chat</title>');
    expect((await fetch(`${base}/style.css`)).headers.get('content-type')).toContain('text/css');
    const app = await fetch(`${base}/app.js`);
    expect(app.status).toBe(200);
    expect(await app.text()).toContain('hello from the bundle');
    expect((await fetch(`${base}/../secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
    // Sent as-is (fetch would normalize the path): an encoded slash must not escape the root.
    const raw = await new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port: server.httpPort, path: '/..%2fsecret.txt' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(raw).toBe(404);
    expect((await fetch(`${base}/pulse/info`, { method: 'POST' })).status).toBe(405);
  });

  it('serves a short page when no web client is installed', async () => {
    const bare = await ListeningServer.start();
    try {
      const page = await fetch(`http://127.0.0.1:${bare.httpPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('no web client');
      expect((await fetch(`http://127.0.0.1:${bare.httpPort}/app.js`)).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
