import type { Frame } from '../src/frames.ts';

/**
 * One or more example of every frame type, in schema field order. The golden
 * vectors in vectors/frames.json are these frames encoded; regenerate them with
 * `node --import tsx scripts/gen-frame-vectors.ts` after a deliberate wire change.
 */
const bytes = (length: number, seed: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (seed + i * 7) & 0xff);
const identityKey = Uint8Array.of(0x05, ...bytes(32, 1));
const signature = bytes(64, 2);
const signedPreKey = { keyId: 7, publicKey: Uint8Array.of(0x05, ...bytes(32, 3)), signature };
const pqPreKey = { keyId: 9, publicKey: Uint8Array.of(0x08, ...bytes(48, 4)), signature };
const deviceList = {
  version: 3,
  devices: [
    { deviceId: 1, identityKey, name: 'laptop', addedAt: 1_700_000_000_000 },
    { deviceId: 4, identityKey: Uint8Array.of(0x05, ...bytes(32, 11)), name: 'phone', addedAt: 1_700_000_050_000 },
  ],
  signature,
};
const accountKey = Uint8Array.of(0x05, ...bytes(32, 12));
const linkRequest = {
  linkId: 'l-7',
  deviceId: 5,
  deviceName: 'tablet',
  identityKey,
  signedPreKey,
  pqPreKey,
  mac: bytes(32, 13),
  requestedAt: 1_700_000_060_000,
  expiresAt: 1_700_000_360_000,
};
const member = { account: 'alice', deviceId: 1, connectedAt: 1_700_000_000_000 };

export const FRAME_EXAMPLES: readonly Frame[] = [
  { type: 'hello', versions: [2], client: 'pulse-cli/0.1' },
  {
    type: 'welcome',
    version: 2,
    serverTime: 1_700_000_000_000,
    challenge: bytes(32, 5),
    heartbeatMs: 25_000,
    maxFrameBytes: 1_048_576,
  },
  {
    type: 'register',
    id: 1,
    account: 'alice',
    deviceName: 'laptop',
    identityKey,
    signature,
    accountKey,
    deviceList: {
      version: 1,
      devices: [{ deviceId: 1, identityKey, name: 'laptop', addedAt: 1_700_000_000_000 }],
      signature,
    },
  },
  { type: 'auth', id: 2, account: 'alice', deviceId: 1, signature },
  { type: 'auth_token', id: 3, token: bytes(48, 6) },
  { type: 'auth_ok', id: 2, account: 'alice', deviceId: 1, token: bytes(48, 6), tokenExpiresAt: 1_700_000_600_000 },
  { type: 'device_list', id: 5 },
  { type: 'device_list', id: 6, account: 'bob' },
  {
    type: 'devices',
    id: 5,
    account: 'alice',
    accountKey,
    deviceList,
    lastSeen: [{ deviceId: 1, lastSeenAt: 1_700_000_100_000 }],
  },
  { type: 'devices', id: 6, account: 'bob', accountKey, deviceList },
  { type: 'device_list_update', id: 16, deviceList },
  { type: 'device_list_update', id: 17, deviceList, link: { linkId: 'l-7', provisioning: bytes(80, 14) } },
  { type: 'device_list_changed', account: 'alice', version: 3 },
  {
    type: 'link_request',
    id: 18,
    account: 'alice',
    deviceName: 'tablet',
    identityKey,
    signedPreKey,
    pqPreKey,
    mac: bytes(32, 13),
    signature,
  },
  { type: 'link_pending', id: 18, linkId: 'l-7', expiresAt: 1_700_000_360_000 },
  { type: 'link_requested', ...linkRequest },
  { type: 'link_list', id: 19 },
  { type: 'links', id: 19, requests: [linkRequest] },
  { type: 'link_approved', linkId: 'l-7', account: 'alice', deviceId: 5, provisioning: bytes(80, 14) },
  {
    type: 'prekeys_upload',
    id: 7,
    signedPreKey,
    pqLastResortPreKey: pqPreKey,
    oneTimePreKeys: [{ keyId: 100, publicKey: identityKey }],
    pqOneTimePreKeys: [pqPreKey],
  },
  { type: 'prekeys_upload', id: 8, oneTimePreKeys: [{ keyId: 101, publicKey: identityKey }] },
  { type: 'prekeys_low', oneTimePreKeys: 3, pqOneTimePreKeys: 0 },
  { type: 'bundle_fetch', id: 9, account: 'bob' },
  {
    type: 'bundles',
    id: 9,
    account: 'bob',
    accountKey,
    deviceList,
    bundles: [
      {
        deviceId: 1,
        identityKey,
        signedPreKey,
        pqPreKey,
        pqPreKeyIsLastResort: false,
        oneTimePreKey: { keyId: 100, publicKey: identityKey },
      },
      { deviceId: 2, identityKey, signedPreKey, pqPreKey, pqPreKeyIsLastResort: true },
    ],
  },
  {
    type: 'send',
    id: 10,
    to: 'bob',
    envelopes: [
      { deviceId: 1, payload: bytes(40, 8) },
      { deviceId: 2, payload: bytes(40, 9) },
    ],
  },
  { type: 'sent', id: 10, envelopeIds: ['e-1', 'e-2'], serverTime: 1_700_000_000_500 },
  {
    type: 'deliver',
    envelopeId: 'e-1',
    from: { account: 'alice', deviceId: 1 },
    serverTime: 1_700_000_000_500,
    payload: bytes(40, 8),
  },
  { type: 'deliver', envelopeId: 'e-2', sealed: true, serverTime: 1_700_000_000_500, payload: bytes(40, 9) },
  { type: 'deliver_ack', envelopeIds: ['e-1'] },
  { type: 'sync', id: 11 },
  { type: 'sync_done', id: 11, delivered: 2 },
  { type: 'sender_certificate', id: 16 },
  { type: 'certificate', id: 16, certificate: bytes(60, 23), expiresAt: 1_700_086_400_000 },
  { type: 'set_delivery_token', id: 17, token: bytes(32, 24) },
  {
    type: 'sealed_send',
    id: 18,
    to: 'bob',
    deliveryToken: bytes(32, 25),
    envelopes: [{ deviceId: 1, payload: bytes(40, 26) }],
  },
  {
    type: 'send_ephemeral',
    to: 'bob',
    envelopes: [
      { deviceId: 1, payload: bytes(20, 21) },
      { deviceId: 2, payload: bytes(20, 22) },
    ],
  },
  { type: 'ephemeral', from: { account: 'alice', deviceId: 1 }, serverTime: 1_700_000_000_600, payload: bytes(20, 21) },
  { type: 'subscribe', id: 12, channel: 'group:team/chat' },
  { type: 'subscribe', id: 13, channel: 'group:team/chat', since: { epoch: 'k3j9', offset: 41 }, presence: true },
  { type: 'subscribed', id: 13, channel: 'group:team/chat', epoch: 'k3j9', offset: 42, recovered: true },
  { type: 'unsubscribe', id: 14, channel: 'group:team/chat' },
  { type: 'publish', id: 15, channel: 'group:team/chat', payload: bytes(24, 10) },
  { type: 'published', id: 15, offset: 43 },
  {
    type: 'channel_message',
    channel: 'group:team/chat',
    offset: 43,
    from: { account: 'alice', deviceId: 1 },
    serverTime: 1_700_000_000_900,
    payload: bytes(24, 10),
  },
  { type: 'presence_snapshot', channel: 'group:team/chat', members: [member] },
  { type: 'presence_join', channel: 'group:team/chat', member },
  { type: 'presence_leave', channel: 'group:team/chat', member },
  { type: 'ping', nonce: 1 },
  { type: 'pong', nonce: 1 },
  { type: 'ok', id: 14 },
  { type: 'error', id: 10, code: 'QUEUE_FULL', message: 'the recipient device queue is full' },
  { type: 'error', code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 250 },
  { type: 'close', code: 'SERVER_SHUTDOWN', reason: 'restarting' },
];
