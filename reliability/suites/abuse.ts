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
 *   unflooded windows' (measured between the floods, in the same run, and pooled:
 *   docs/reliability.md "How the suites measure"; quick: of the worst unflooded
 *   window), and every message arrives. What a heavy user within every limit
 *   costs them is printed beside.
 * - a flooder closed for flooding is kept out for `rate_penalty`: it does not
 *   come back with a fresh connection (and a full token bucket) at once.
 */
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey } from '@pulse/crypto';
import { prekeysUploadSignedMessage } from '@pulse/proto';
import { DEFAULT_LIMITS, type ServerLimits } from '@pulse/server';
import { dialWebSocket, reconnect, register, TEST_LIMITS } from '@pulse/testing';
import { ChatTraffic, type ChatWindow, pooledWindows } from '../lib/chat-traffic.ts';
import { runMode, sized } from '../lib/mode.ts';
import { SuiteReport } from '../lib/report.ts';
import { describeServerWindow, exitWatch, serverWindow } from '../lib/server-figures.ts';
import { suiteServer } from '../lib/suite-server.ts';
import { startWorker } from '../lib/worker.ts';
import type { FloodArgs, FloodFigures, FloodKind } from '../load/flood.ts';

const mode = runMode();
const report = new SuiteReport('abuse', mode);
const WINDOW_MS = sized(mode, 30_000, 5_000);
/** A flood lasts this long from its worker's start; the others are measured from its first flooder on. */
const FLOOD_MS = WINDOW_MS + 1_000;
/**
 * The others' p99 during a flood may be at most this many times their p99
 * unflooded: twice the tail a user already meets is still a snappy chat, and
 * less would measure the machine's other tenants more than the server.
 */
const P99_FACTOR = 2;
/** The measured users: 8 chatting pairs, each sending every 100 ms (80 messages a second: 400 samples in a quick window). */
const PAIRS = 8;
const CHAT_INTERVAL_MS = 100;
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
/** The frame flooder's connections (reliability/load/flood.ts). */
const FRAME_FLOOD_LANES = 4;

const server = await suiteServer({ webtransport: false, webClient: false, limits: LIMITS });
const watch = exitWatch(server);
const open = dialWebSocket(server.websocketUrl);

// The victims, from 127.0.0.1: chatting pairs, one account with prekeys, one idle channel's history.
const chat = await ChatTraffic.start(open, PAIRS, CHAT_INTERVAL_MS);
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
await sleep(1_000); // warm-up, not measured
const describe = (w: ChatWindow) =>
  `p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, ${w.delivered}/${w.sent} delivered, ${w.failed} failed, errors ${w.errors.length ? w.errors.slice(0, 3).join('; ') : 'none'}`;
/**
 * Unflooded windows before, between and after the floods: the machine is shared,
 * so its load drifts over a run; pooled, they are the baseline every flood is
 * compared with (the same drift, sampled around it).
 */
const unflooded: ChatWindow[] = [];
const measureUnflooded = async () => {
  chat.take();
  const inside = await serverWindow(server);
  await sleep(WINDOW_MS);
  const window = chat.take();
  unflooded.push(window);
  report.figure(`others unflooded (window ${unflooded.length})`, describe(window));
  report.figure('  the server meanwhile', describeServerWindow(await inside.finish()));
};
await measureUnflooded();

/**
 * The floods, each from an address of its own, and twice a heavy user within
 * every limit (publishing the largest payload at `rate_bytes`): what the limits
 * themselves let one connection cost the others is printed beside the floods.
 */
const FLOODS: readonly FloodKind[] = ['frames', 'heavy', 'bytes', 'prekeys', 'heavy', 'channels'];
const results = new Map<FloodKind, { figures: FloodFigures; others: ChatWindow }>();
const heavyWindows: ChatWindow[] = [];
for (const [i, kind] of FLOODS.entries()) {
  const flood = startWorker<FloodFigures>('flood', {
    kind,
    url: server.websocketUrl,
    localAddress: `127.0.0.${i + 2}`,
    durationMs: FLOOD_MS,
    victim: owner.account,
    payloadBytes: DEFAULT_LIMITS.maxMessageSize,
    lanes: FRAME_FLOOD_LANES,
    perSecond: DEFAULT_LIMITS.rateBytes / DEFAULT_LIMITS.maxMessageSize,
  } satisfies FloodArgs);
  await flood.started; // the worker's process starts, registers its flooders and begins
  chat.take();
  const inside = await serverWindow(server);
  const figures = await flood.result;
  const others = chat.take();
  const serverFigures = await inside.finish();
  if (kind === 'heavy') heavyWindows.push(others);
  else results.set(kind, { figures, others });
  const what = kind === 'heavy' ? 'a heavy user within the limits' : `the ${kind} flood`;
  report.figure(
    `${kind === 'heavy' ? 'heavy user' : `flood ${kind}`} (from 127.0.0.${i + 2})`,
    JSON.stringify(figures),
  );
  report.figure(`others during ${what}`, describe(others));
  report.figure('  the server meanwhile', describeServerWindow(serverFigures));
  await sleep(500); // the flooder's sockets close
  await measureUnflooded();
}
const baseline = pooledWindows(unflooded);
report.figure(`others unflooded (${unflooded.length} windows pooled)`, describe(baseline));
const heavy = pooledWindows(heavyWindows);
report.figure(`others beside a heavy user (${heavyWindows.length} windows pooled)`, describe(heavy));
// Not a property: what the byte limits let one connection cost the others (docs/reliability.md "Where the time goes").
report.figure(
  'the cost of a heavy user within the limits',
  `p99 ${(heavy.p99 / baseline.p99).toFixed(2)}× unflooded, p50 ${(heavy.p50 / baseline.p50).toFixed(2)}×`,
);

const seconds = FLOOD_MS / 1000;

const frames = results.get('frames')!.figures;
const pongs = frames.answers.pong ?? 0;
const frameBound = frames.connections * (LIMITS.rate * seconds + LIMITS.rateBurst);
report.check(
  'frames: the flooder is limited',
  (frames.errors.RATE_LIMITED ?? 0) > 0 && pongs <= frameBound,
  `${frames.framesSent} pings sent, ${pongs} answered (bound ${frameBound.toFixed(0)} over ${frames.connections} connections), ${frames.errors.RATE_LIMITED ?? 0} RATE_LIMITED, closes ${JSON.stringify(frames.closes)}`,
);
report.check(
  'frames: a flooder closed for flooding is kept out for rate_penalty',
  (frames.closes.RATE_LIMITED ?? 0) > 0 && frames.connections <= FRAME_FLOOD_LANES && frames.registerFailures > 0,
  `${frames.closes.RATE_LIMITED ?? 0} closed RATE_LIMITED, ${frames.connections} connections registered (one per lane: ${FRAME_FLOOD_LANES}), ${frames.registerFailures} attempts to come back refused`,
);
const bytes = results.get('bytes')!.figures;
// What the server took: the burst, the rate over the window, and the one frame read before a pause.
const byteBound = DEFAULT_LIMITS.rateBytesBurst + DEFAULT_LIMITS.rateBytes * seconds + DEFAULT_LIMITS.maxFrameBytes;
const bytesAccepted = (bytes.answers.published ?? 0) * DEFAULT_LIMITS.maxMessageSize;
report.check(
  'bytes: a flood of large frames under the frame rate is held to rate_bytes',
  bytesAccepted <= byteBound && bytes.bytesSent > byteBound,
  `${(bytes.bytesSent / 2 ** 20).toFixed(0)} MiB offered in ${bytes.framesSent} publications over ${seconds} s, ${bytes.answers.published ?? 0} accepted (${(bytesAccepted / 2 ** 20).toFixed(1)} MiB, bound ${(byteBound / 2 ** 20).toFixed(1)} MiB), refusals ${JSON.stringify({ ...bytes.errors, ...bytes.closes })}`,
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
/**
 * The reference p99 each flood is held to. Full run: the unflooded windows
 * pooled (30 s windows: about 2,400 messages each, a p99 that moves little).
 * Quick run (CI): the worst unflooded window of the run. A 5 s window's p99 is
 * about its 4th-worst of 400 messages, and on a shared machine unflooded
 * windows of one run spread over 6× (docs/reliability.md "Thresholds"): the
 * quick run guards against regressions larger than that noise (the frame flood
 * was 65×), the full run measures the 2×.
 */
const worstUnflooded = unflooded.reduce((worst, w) => (w.p99 > worst.p99 ? w : worst));
const reference = mode.quick ? worstUnflooded : baseline;
const referenceName = mode.quick ? 'the worst unflooded window' : 'unflooded, pooled';
for (const [kind, { others }] of results) {
  report.check(
    `${kind}: the others get every message, without an error`,
    others.failed === 0 && others.errors.length === 0,
    `success ${(100 * others.successRate).toFixed(2)} %, ${others.failed} failed, ${others.errors.length} errors`,
  );
  report.timing(
    `${kind}: the others keep their p99 (≤ ${P99_FACTOR}× ${referenceName})`,
    others.p99 <= P99_FACTOR * reference.p99,
    `p99 ${others.p99.toFixed(1)} ms vs ${P99_FACTOR} × ${reference.p99.toFixed(1)} ms (${(others.p99 / reference.p99).toFixed(2)}×; ${(others.p99 / baseline.p99).toFixed(2)}× the pooled unflooded p99, ${(others.p99 / heavy.p99).toFixed(2)}× beside a heavy user), success ${(100 * others.successRate).toFixed(2)} %, ${others.failed} failed, ${others.errors.length} errors`,
  );
}
report.check('the server stays up', watch.exited() === undefined, `exit ${watch.exited() ?? 'none'}`);

chat.stop();
await server.stop();
report.finish();
