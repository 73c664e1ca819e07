/**
 * Bundled by the server under test (esbuild, `[web] entry`) and run in Chromium:
 * a tiny Pulse client over the browser's own WebTransport and WebSocket. It
 * registers one account per transport (XEdDSA from @pulse/crypto in the page),
 * subscribes over WebTransport, publishes over WebSocket, and reports what it saw.
 */
import { generateIdentityKeyPair } from '@pulse/crypto';
import { type Frame, FrameCodec, prefixLength, registerSignedMessage, StreamFrameDecoder } from '@pulse/proto';

interface Info {
  websocket: { url: string };
  webtransport: { url: string; serverCertificateHashes: { algorithm: string; value: string }[] };
}

interface Link {
  send(frame: Frame): void;
  next(type: Frame['type']): Promise<Frame>;
}

const codec = new FrameCodec();

function inbox(): { push(frame: Frame): void; next(type: Frame['type']): Promise<Frame> } {
  const frames: Frame[] = [];
  const waiters: { type: string; resolve(frame: Frame): void }[] = [];
  return {
    push(frame) {
      const i = waiters.findIndex((w) => w.type === frame.type);
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(frame);
      else frames.push(frame);
    },
    next(type) {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
  };
}

async function overWebTransport(info: Info): Promise<Link> {
  const hashes = info.webtransport.serverCertificateHashes.map((h) => ({
    algorithm: h.algorithm,
    value: Uint8Array.from(atob(h.value), (c) => c.charCodeAt(0)),
  }));
  const transport = new WebTransport(info.webtransport.url, { serverCertificateHashes: hashes } as WebTransportOptions);
  await transport.ready;
  const stream = await transport.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const box = inbox();
  void (async () => {
    const decoder = new StreamFrameDecoder(codec.limits.maxFrameBytes);
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const bytes of decoder.push(value)) box.push(codec.decode(bytes));
    }
  })();
  return { send: (frame) => void writer.write(prefixLength(codec.encode(frame))), next: box.next };
}

async function overWebSocket(info: Info): Promise<Link> {
  const ws = new WebSocket(info.websocket.url);
  ws.binaryType = 'arraybuffer';
  const box = inbox();
  ws.onmessage = (event) => box.push(codec.decode(new Uint8Array(event.data as ArrayBuffer)));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return { send: (frame) => ws.send(codec.encode(frame) as Uint8Array<ArrayBuffer>), next: box.next };
}

async function registerOn(link: Link, account: string): Promise<Frame> {
  link.send({ type: 'hello', versions: [1], client: 'chromium-test' });
  const welcome = await link.next('welcome');
  if (welcome.type !== 'welcome') throw new Error('no welcome');
  const identity = generateIdentityKeyPair();
  link.send({
    type: 'register',
    id: 1,
    account,
    deviceName: 'browser',
    identityKey: identity.publicKey,
    signature: identity.sign(registerSignedMessage(welcome.challenge, account, identity.publicKey)),
  });
  return link.next('auth_ok');
}

async function run(): Promise<unknown> {
  const info = (await (await fetch('/pulse/info')).json()) as Info;
  const suffix = Math.random().toString(36).slice(2, 8);
  const wt = await overWebTransport(info);
  const ws = await overWebSocket(info);
  const wtOk = await registerOn(wt, `wt-${suffix}`);
  const wsOk = await registerOn(ws, `ws-${suffix}`);
  wt.send({ type: 'subscribe', id: 2, channel: 'public:browser', presence: true });
  await wt.next('subscribed');
  ws.send({ type: 'publish', id: 2, channel: 'public:browser', payload: new TextEncoder().encode('hi from ws') });
  const message = await wt.next('channel_message');
  return {
    wtAccount: wtOk.type === 'auth_ok' ? wtOk.account : null,
    wsAccount: wsOk.type === 'auth_ok' ? wsOk.account : null,
    from: message.type === 'channel_message' ? message.from.account : null,
    payload: message.type === 'channel_message' ? new TextDecoder().decode(message.payload) : null,
  };
}

(globalThis as { pulseResult?: Promise<unknown> }).pulseResult = run().catch((error: unknown) => ({
  error: String(error),
}));
