/**
 * Bundled by the server under test (esbuild, `[web] entry`) and run in Chromium:
 * the shared bare protocol client (@pulse/testing/protocol) over the browser's
 * own WebTransport and WebSocket. It registers one account per transport (XEdDSA
 * from @pulse/crypto in the page), subscribes over WebTransport, publishes over
 * WebSocket, and reports what it saw.
 */
import { FrameClient, webSocketWire, webTransportWire } from '@pulse/testing/protocol';

interface Info {
  websocket: { url: string };
  webtransport: { url: string; serverCertificateHashes: { algorithm: string; value: string }[] };
}

async function run(): Promise<unknown> {
  const info = (await (await fetch('/pulse/info')).json()) as Info;
  const suffix = Math.random().toString(36).slice(2, 8);
  const serverCertificateHashes = info.webtransport.serverCertificateHashes.map((h) => ({
    algorithm: h.algorithm,
    value: Uint8Array.from(atob(h.value), (c) => c.charCodeAt(0)),
  }));
  const wt = await FrameClient.open((events) =>
    webTransportWire(
      new WebTransport(info.webtransport.url, { serverCertificateHashes } as WebTransportOptions),
      events,
    ),
  );
  const ws = await FrameClient.open((events) => webSocketWire(new WebSocket(info.websocket.url), events));
  const wtOk = await wt.register(`wt-${suffix}`, undefined, 'browser');
  const wsOk = await ws.register(`ws-${suffix}`, undefined, 'browser');
  await wt.expect({ type: 'subscribe', id: 0, channel: 'public:browser', presence: true }, 'subscribed');
  ws.send({
    type: 'publish',
    id: ws.nextId(),
    channel: 'public:browser',
    payload: new TextEncoder().encode('hi from ws'),
  });
  const message = await wt.next('channel_message');
  return {
    wtAccount: wtOk.account,
    wsAccount: wsOk.account,
    from: message.from.account,
    payload: new TextDecoder().decode(message.payload),
  };
}

(globalThis as { pulseResult?: Promise<unknown> }).pulseResult = run().catch((error: unknown) => ({
  error: String(error),
}));
