/**
 * Abuse: one flooding client, from an IP address of its own, floods frames,
 * bytes, prekey fetches and channels in turn (reliability/load/flood.ts, a
 * process of its own), while well-behaved users chat from another address
 * (lib/chat-traffic.ts). Properties, per flood:
 * - the flooder is limited: frames beyond the configured rate are refused (and
 *   the rest stays within `rate`·t + `rate_burst` per connection); a byte flood
 *   under the frame rate meets a byte limit; one IP takes at most
 *   `prekey_fetches` of a victim's one-time prekeys; an idle channel's history
 *   survives another user's channel flood (`recovered: true`);
 * - the others are not degraded: their send→deliver p99 stays within 2× of the
 *   unflooded window measured first, and every message arrives.
 */
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey } from '@pulse/crypto';
import { prekeysUploadSignedMessage } from '@pulse/proto';
import { DEFAULT_LIMITS, type ServerLimits } from '@pulse/server';
import { dialWebSocket, reconnect, register, TEST_LIMITS } from '@pulse/testing';
import { ChatTraffic, type ChatWindow } from '../lib/chat-traffic.ts';
import { runMode, sized } from '../lib/mode.ts';
import { SuiteReport } from '../lib/report.ts';
import { exitWatch } from '../lib/server-figures.ts';
import { suiteServer } from '../lib/suite-server.ts';
import { startWorker } from '../lib/worker.ts';
import type { FloodArgs, FloodFigures, FloodKind } from '../load/flood.ts';

const mode = runMode();
const report = new SuiteReport('abuse', mode);
const WINDOW_MS = sized(mode, 30_000, 5_000);
const P99_FACTOR = 2;
/**
 * The server's own limits, not the test harness's: every limit TEST_LIMITS
 * loosens (for test users sharing 127.0.0.1) is set back to its default here,
 * with the frame rate, so this suite tries what a deployment has.
 */
const LIMITS = {
  ...Object.fromEntries(Object.keys(TEST_LIMITS).map((name) => [name, DEFAULT_LIMITS[name as keyof ServerLimits]])),
  rate: DEFAULT_LIMITS.rate,
  rateBurst: DEFAULT_LIMITS.rateBurst,
  prekeyFetches: DEFAULT_LIMITS.prekeyFetches,
} as Partial<ServerLimits> & Pick<ServerLimits, 'rate' | 'rateBurst' | 'prekeyFetches'>;
const ONE_TIME_PREKEYS = 200;

const server = await suiteServer({ webtransport: false, webClient: false, limits: LIMITS });
const watch = exitWatch(server);
const open = dialWebSocket(server.websocketUrl);

// The victims, from 127.0.0.1: four chatting pairs (40 messages a second), one account with prekeys, one idle channel's history.
const chat = await ChatTraffic.start(open, 4, 100);
const owner = await register(open);
await owner.client.expect(
  {
    type: 'prekeys_upload',
    id: 0,
    signedPreKey: generateSignedPreKey(owner.identity, 1).toPublic(),
    pqLastResortPreKey: generatePqPreKey(owner.identity, 2, { lastResort: true }).toPublic(),
    oneTimePreKeys: generateOneTimePreKeys(100, ONE_TIME_PREKEYS).map((k) => k.toPublic()),
    proof: owner.identity.sign(prekeysUploadSignedMessage(owner.client.challenge, owner.account, owner.deviceId)),
  },
  'ok',
);
const historyChannel = `public:history-${owner.account}`;
const history = await owner.client.expect({ type: 'subscribe', id: 0, channel: historyChannel }, 'subscribed');
for (let i = 0; i < 10; i++)
  await owner.client.expect(
    { type: 'publish', id: 0, channel: historyChannel, payload: new Uint8Array(100) },
    'published',
  );
await owner.client.expect({ type: 'unsubscribe', id: 0, channel: historyChannel }, 'ok');

await new Promise((resolve) => setTimeout(resolve, 1_000)); // warm-up, not measured
chat.take();
await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
const baseline = chat.take();
const describe = (w: ChatWindow) =>
  `p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ${w.delivered}/${w.sent} delivered, ${w.failed} failed, errors ${w.errors.length ? w.errors.slice(0, 3).join('; ') : 'none'}`;
report.figure('others unflooded', describe(baseline));

const FLOODS: readonly FloodKind[] = ['frames', 'bytes', 'prekeys', 'channels'];
const results = new Map<FloodKind, { figures: FloodFigures; others: ChatWindow }>();
for (const [i, kind] of FLOODS.entries()) {
  const flood = startWorker<FloodFigures>('flood', {
    kind,
    url: server.websocketUrl,
    localAddress: `127.0.0.${i + 2}`,
    durationMs: WINDOW_MS + 1_500,
    victim: owner.account,
    payloadBytes: DEFAULT_LIMITS.maxMessageSize,
  } satisfies FloodArgs);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // the worker starts
  chat.take();
  const figures = await flood.result;
  const others = chat.take();
  results.set(kind, { figures, others });
  report.figure(`flood ${kind} (from 127.0.0.${i + 2})`, JSON.stringify(figures));
  report.figure(`others during the ${kind} flood`, describe(others));
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const seconds = (WINDOW_MS + 1_500) / 1000;

const frames = results.get('frames')!.figures;
const pongs = frames.answers.pong ?? 0;
const frameBound = frames.connections * (LIMITS.rate * seconds + LIMITS.rateBurst);
report.check(
  'frames: the flooder is limited',
  (frames.errors.RATE_LIMITED ?? 0) > 0 && pongs <= frameBound,
  `${frames.framesSent} pings sent, ${pongs} answered (bound ${frameBound.toFixed(0)} over ${frames.connections} connections), ${frames.errors.RATE_LIMITED ?? 0} RATE_LIMITED, closes ${JSON.stringify(frames.closes)}`,
);
const bytes = results.get('bytes')!.figures;
report.check(
  'bytes: a flood of large frames under the frame rate meets a limit',
  sum(bytes.errors) + sum(bytes.closes) > 0,
  `${(bytes.bytesSent / 2 ** 20).toFixed(0)} MiB in ${bytes.framesSent} publications over ${seconds} s, ${bytes.answers.published ?? 0} accepted, refusals ${JSON.stringify({ ...bytes.errors, ...bytes.closes })}`,
);
const prekeys = results.get('prekeys')!.figures;
report.check(
  'prekey fetches: one IP takes at most prekey_fetches one-time prekeys of a victim',
  prekeys.oneTimePreKeysTaken <= LIMITS.prekeyFetches,
  `${prekeys.oneTimePreKeysTaken} of ${ONE_TIME_PREKEYS} taken by ${prekeys.connections} accounts of one IP (bound ${LIMITS.prekeyFetches}), ${prekeys.errors.RATE_LIMITED ?? 0} RATE_LIMITED`,
);
// A fresh connection (the owner's first one has been silent past the heartbeat timeout).
await reconnect(open, owner);
const replay = await owner.client.expect(
  { type: 'subscribe', id: 0, channel: historyChannel, since: { epoch: history.epoch, offset: history.offset } },
  'subscribed',
);
const channels = results.get('channels')!.figures;
report.check(
  "channels: another user's idle channel keeps its history through the flood",
  replay.recovered,
  `recovered ${replay.recovered}; flooder: ${channels.answers.subscribed ?? 0} subscriptions over ${channels.connections} connections, ${channels.answers.published ?? 0} large publications, refusals ${JSON.stringify({ ...channels.errors, ...channels.closes })}`,
);
for (const [kind, { others }] of results) {
  report.check(
    `${kind}: the others keep their p99 (≤ ${P99_FACTOR}×) and every message`,
    others.p99 <= P99_FACTOR * baseline.p99 && others.failed === 0 && others.errors.length === 0,
    `p99 ${others.p99.toFixed(1)} ms vs ${P99_FACTOR} × ${baseline.p99.toFixed(1)} ms (${(others.p99 / baseline.p99).toFixed(2)}×), success ${(100 * others.successRate).toFixed(2)} %, ${others.failed} failed, ${others.errors.length} errors`,
  );
}
report.check('the server stays up', watch.exited() === undefined, `exit ${watch.exited() ?? 'none'}`);

chat.stop();
await server.stop();
report.finish();
