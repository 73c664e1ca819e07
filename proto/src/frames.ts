import * as v from 'valibot';
import { fieldSchemas } from './fields.ts';
import { DEFAULT_PROTO_LIMITS, type ProtoLimits } from './limits.ts';

/**
 * Every Pulse frame, as valibot schemas: the single source of truth for what the
 * wire carries. PROTOCOL.md documents each one; `frames.test.ts` pins their bytes.
 *
 * Direction: C = client to server, S = server to client.
 * Requests carry an `id` the client picks; the answer (or an `error`) echoes it.
 * Payloads (`payload`) are opaque ciphertext: the protocol never looks inside.
 */
function buildFrameSchemas(limits: ProtoLimits) {
  const f = fieldSchemas(limits);
  const frame = <T extends string, E extends v.ObjectEntries>(type: T, entries: E) =>
    v.object({ type: v.literal(type), ...entries });

  const address = v.object({ account: f.accountName, deviceId: f.deviceId });
  const signedPreKey = v.object({ keyId: f.uint32, publicKey: f.publicKey, signature: f.signature });
  const preKey = v.object({ keyId: f.uint32, publicKey: f.publicKey });
  const presenceMember = v.object({ account: f.accountName, deviceId: f.deviceId, connectedAt: f.timestamp });

  const frames = [
    // Session setup (PROTOCOL.md "Handshake").
    frame('hello', { versions: v.pipe(v.array(f.uint32), v.minLength(1), v.maxLength(16)), client: f.text }),
    frame('welcome', {
      version: f.uint32,
      serverTime: f.timestamp,
      challenge: f.bytesExactly(32),
      heartbeatMs: f.uint,
      maxFrameBytes: f.uint,
    }),
    frame('register', {
      id: f.requestId,
      account: f.accountName,
      deviceName: f.text,
      identityKey: f.publicKey,
      signature: f.signature,
    }),
    frame('auth', { id: f.requestId, account: f.accountName, deviceId: f.deviceId, signature: f.signature }),
    frame('auth_token', { id: f.requestId, token: f.bytesUpTo(1024) }),
    frame('auth_ok', {
      id: f.requestId,
      account: f.accountName,
      deviceId: f.deviceId,
      token: f.bytesUpTo(1024),
      tokenExpiresAt: f.timestamp,
    }),

    // Devices.
    frame('device_link', {
      id: f.requestId,
      deviceName: f.text,
      identityKey: f.publicKey,
      signature: f.signature,
    }),
    frame('device_linked', { id: f.requestId, deviceId: f.deviceId }),
    frame('device_list', { id: f.requestId }),
    frame('devices', {
      id: f.requestId,
      devices: f.listOf(
        v.object({
          deviceId: f.deviceId,
          deviceName: f.text,
          identityKey: f.publicKey,
          createdAt: f.timestamp,
          lastSeenAt: f.timestamp,
        }),
      ),
    }),
    frame('device_remove', { id: f.requestId, deviceId: f.deviceId }),

    // Prekey directory.
    frame('prekeys_upload', {
      id: f.requestId,
      signedPreKey: v.optional(signedPreKey),
      pqLastResortPreKey: v.optional(signedPreKey),
      oneTimePreKeys: v.optional(f.listOf(preKey)),
      pqOneTimePreKeys: v.optional(f.listOf(signedPreKey)),
    }),
    frame('prekeys_low', { oneTimePreKeys: f.uint, pqOneTimePreKeys: f.uint }),
    frame('bundle_fetch', { id: f.requestId, account: f.accountName }),
    frame('bundles', {
      id: f.requestId,
      account: f.accountName,
      bundles: f.listOf(
        v.object({
          deviceId: f.deviceId,
          identityKey: f.publicKey,
          signedPreKey,
          pqPreKey: signedPreKey,
          pqPreKeyIsLastResort: v.boolean(),
          oneTimePreKey: v.optional(preKey),
        }),
      ),
    }),

    // Envelopes: one send addresses every device of one account (PROTOCOL.md "Envelopes").
    frame('send', {
      id: f.requestId,
      to: f.accountName,
      envelopes: v.pipe(f.listOf(v.object({ deviceId: f.deviceId, payload: f.payload })), v.minLength(1)),
    }),
    frame('sent', { id: f.requestId, envelopeIds: f.listOf(f.envelopeId), serverTime: f.timestamp }),
    frame('deliver', {
      envelopeId: f.envelopeId,
      from: address,
      serverTime: f.timestamp,
      payload: f.payload,
    }),
    frame('deliver_ack', { envelopeIds: v.pipe(f.listOf(f.envelopeId), v.minLength(1)) }),
    frame('sync', { id: f.requestId }),
    frame('sync_done', { id: f.requestId, delivered: f.uint }),

    // Channels (PROTOCOL.md "Channels").
    frame('subscribe', {
      id: f.requestId,
      channel: f.channelName,
      since: v.optional(v.object({ epoch: f.text, offset: f.uint })),
      presence: v.optional(v.boolean()),
    }),
    frame('subscribed', {
      id: f.requestId,
      channel: f.channelName,
      epoch: f.text,
      offset: f.uint,
      recovered: v.boolean(),
    }),
    frame('unsubscribe', { id: f.requestId, channel: f.channelName }),
    frame('publish', { id: f.requestId, channel: f.channelName, payload: f.payload }),
    frame('published', { id: f.requestId, offset: f.uint }),
    frame('channel_message', {
      channel: f.channelName,
      offset: f.uint,
      from: address,
      serverTime: f.timestamp,
      payload: f.payload,
    }),

    // Presence.
    frame('presence_snapshot', { channel: f.channelName, members: f.listOf(presenceMember) }),
    frame('presence_join', { channel: f.channelName, member: presenceMember }),
    frame('presence_leave', { channel: f.channelName, member: presenceMember }),

    // Liveness, generic answers, errors, close.
    frame('ping', { nonce: f.uint32 }),
    frame('pong', { nonce: f.uint32 }),
    frame('ok', { id: f.requestId }),
    frame('error', {
      id: v.optional(f.requestId),
      code: f.errorCode,
      message: f.text,
      retryAfterMs: v.optional(f.uint),
    }),
    frame('close', { code: f.errorCode, reason: f.text }),
  ] as const;

  return { frame: v.variant('type', frames), frames };
}

type FrameSchemas = ReturnType<typeof buildFrameSchemas>;

/** Any Pulse frame. */
export type Frame = v.InferOutput<FrameSchemas['frame']>;
/** The string tag of a frame. */
export type FrameType = Frame['type'];
/** The frame with the given tag. */
export type FrameOf<T extends FrameType> = Extract<Frame, { type: T }>;

export const FRAME_TYPES: readonly FrameType[] = buildFrameSchemas(DEFAULT_PROTO_LIMITS).frames.map(
  (schema) => schema.entries.type.literal,
);

const cache = new WeakMap<ProtoLimits, FrameSchemas>();

/** The frame schema for `limits`, built once per limits object. */
export function frameSchema(limits: ProtoLimits): FrameSchemas['frame'] {
  let schemas = cache.get(limits);
  if (schemas === undefined) {
    schemas = buildFrameSchemas(limits);
    cache.set(limits, schemas);
  }
  return schemas.frame;
}
