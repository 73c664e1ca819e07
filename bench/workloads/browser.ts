/**
 * Browser round trip: in one Chromium page, Pulse's protocol ping → pong (the
 * liveness frame the web client sends) over WebTransport and over WebSocket to
 * the real server, alternating blocks of pings. Goal: WT p50 ≤ WS p50. The
 * page's code is @pulse/testing's wire clients, bundled as a web client ships.
 */
import { fileURLToPath } from 'node:url';
import type { Row } from '../lib/report.ts';
import { startPulse } from '../lib/servers.ts';
import { CpuTally, metered, type Suite, type Workload } from '../lib/suite.ts';

const PAGE_SCRIPT = `
import { FrameClient, webSocketWire, webTransportWire } from '@pulse/testing/protocol';

async function pings(client, count, samples) {
  for (let i = 0; i < count; i++) {
    const nonce = (Math.random() * 0xffffffff) >>> 0;
    const started = performance.now();
    const pong = client.waitFor((f) => f.type === 'pong' && f.nonce === nonce, 'pong');
    client.send({ type: 'ping', nonce });
    await pong;
    samples?.push(performance.now() - started);
  }
}

window.pulseBench = async ({ wsUrl, wtUrl, hash, blocks, perBlock, warmup }) => {
  const ws = await FrameClient.connect((events) => webSocketWire(new WebSocket(wsUrl), events));
  const wt = await FrameClient.connect((events) =>
    webTransportWire(
      new WebTransport(wtUrl, { serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }] }),
      events,
    ),
  );
  await pings(ws, warmup);
  await pings(wt, warmup);
  const samples = { ws: [], wt: [] };
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? ['wt', 'ws'] : ['ws', 'wt'];
    for (const kind of order) await pings(kind === 'ws' ? ws : wt, perBlock, samples[kind]);
  }
  ws.close();
  wt.close();
  return samples;
};
`;

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export const browser: Workload = {
  name: 'browser',
  async run(suite: Suite): Promise<Row[]> {
    const blocks = suite.quick ? 4 : 20;
    const perBlock = 100;
    const { bundleForBrowser, launchChromium } = await import('@pulse/testing/browsers');
    const script = await bundleForBrowser(PAGE_SCRIPT, fileURLToPath(new URL('..', import.meta.url)));
    const pulse = await startPulse();
    const chromium = await launchChromium();
    try {
      const page = await chromium.newPage();
      // Any page of the server's origin: http://127.0.0.1 is a secure context, so WebTransport is there.
      await page.goto(`${pulse.baseUrl}/pulse/info`);
      await page.addScriptTag({ content: script });
      const cpu = new CpuTally();
      const samples = await metered([{ name: 'pulse server', pid: pulse.pid }], cpu, () =>
        page.evaluate(
          (args) =>
            (
              window as unknown as {
                pulseBench(a: typeof args): Promise<{ ws: number[]; wt: number[] }>;
              }
            ).pulseBench(args),
          {
            wsUrl: pulse.websocketUrl,
            wtUrl: pulse.webtransportUrl,
            hash: pulse.certificateSha256,
            blocks,
            perBlock,
            warmup: 50,
          },
        ),
      );
      suite.log(`browser: WT p50 ${p50(samples.wt).toFixed(3)} ms, WS p50 ${p50(samples.ws).toFixed(3)} ms`);
      return [
        {
          workload: 'browser round trip (Chromium, ping → pong), p50',
          pulse: 'WebTransport',
          pulseValue: p50(samples.wt),
          baseline: 'WebSocket, same page',
          baselineValue: p50(samples.ws),
          unit: 'ms',
          goal: { text: 'WT p50 ≤ WS p50', max: 1 },
          note: `${blocks} alternating blocks of ${perBlock} pings on each transport, one page, Debian's Chromium; Chromium's own CPU is not metered`,
          cpu: { pulse: cpu.shares(), baseline: cpu.shares() },
        },
      ];
    } finally {
      await chromium.close();
      await pulse.server.stop();
    }
  },
};
