import * as v from 'valibot';
import { devicesAscend } from './device-list.ts';
import { MAX_EPHEMERAL_PAYLOAD_BYTES } from './ephemeral.ts';
import { fieldSchemas } from './fields.ts';
import { DEFAULT_PROTO_LIMITS, type ProtoLimits } from './limits.ts';
import { DELIVERY_TOKEN_BYTES, MAX_SENDER_CERTIFICATE_BYTES } from './sealed-sender.ts';

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
  // The signed device list (device-list.ts); canonical: ids ascend, no duplicates, at least one device.
  const deviceList = v.object({
    version: v.pipe(f.uint32, v.minValue(1)),
    devices: v.pipe(
      f.listOf(v.object({ deviceId: f.deviceId, identityKey: f.publicKey, name: f.text, addedAt: f.timestamp })),
      v.minLength(1),
      v.check((devices) => devicesAscend(devices), 'device ids ascending, without duplicates'),
    ),
    signature: f.signature,
  });
  // A pending link as the account's devices see it (PROTOCOL.md "Linking").
  const linkRequest = {
    linkId: f.linkId,
    deviceId: f.deviceId,
    deviceName: f.text,
    identityKey: f.publicKey,
    signedPreKey,
    pqPreKey: signedPreKey,
    mac: f.bytesExactly(32),
    requestedAt: f.timestamp,
    expiresAt: f.timestamp,
  };

  const frames = [
    // Session setup (PROTOCOL.md "Handshake").
    // `anonymous: true` asks for a connection that never authenticates and only sends sealed
    // envelopes; `welcome` echoes it when granted (PROTOCOL.md "Anonymous connections").
    frame('hello', {
      versions: v.pipe(v.array(f.uint32), v.minLength(1), v.maxLength(16)),
      client: f.text,
      anonymous: v.optional(v.literal(true)),
    }),
    frame('welcome', {
      version: f.uint32,
      serverTime: f.timestamp,
      challenge: f.bytesExactly(32),
      heartbeatMs: f.uint,
      maxFrameBytes: f.uint,
      anonymous: v.optional(v.literal(true)),
    }),
    frame('register', {
      id: f.requestId,
      account: f.accountName,
      deviceName: f.text,
      identityKey: f.publicKey,
      signature: f.signature,
      accountKey: f.publicKey,
      deviceList,
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

    // Devices: the signed device list, and linking by approval (PROTOCOL.md "Devices", "Linking").
    frame('device_list', { id: f.requestId, account: v.optional(f.accountName) }),
    frame('devices', {
      id: f.requestId,
      account: f.accountName,
      accountKey: f.publicKey,
      deviceList,
      lastSeen: v.optional(f.listOf(v.object({ deviceId: f.deviceId, lastSeenAt: f.timestamp }))),
    }),
    frame('device_list_update', {
      id: f.requestId,
      deviceList,
      link: v.optional(v.object({ linkId: f.linkId, provisioning: f.payload })),
    }),
    frame('device_list_changed', { account: f.accountName, version: f.uint32 }),
    frame('link_request', {
      id: f.requestId,
      account: f.accountName,
      deviceName: f.text,
      identityKey: f.publicKey,
      signedPreKey,
      pqPreKey: signedPreKey,
      mac: f.bytesExactly(32),
      signature: f.signature,
    }),
    frame('link_pending', { id: f.requestId, linkId: f.linkId, expiresAt: f.timestamp }),
    frame('link_requested', linkRequest),
    frame('link_list', { id: f.requestId }),
    frame('links', { id: f.requestId, requests: f.listOf(v.object(linkRequest)) }),
    frame('link_approved', {
      linkId: f.linkId,
      account: f.accountName,
      deviceId: f.deviceId,
      provisioning: f.payload,
    }),

    // Prekey directory.
    frame('prekeys_upload', {
      id: f.requestId,
      signedPreKey: v.optional(signedPreKey),
      pqLastResortPreKey: v.optional(signedPreKey),
      oneTimePreKeys: v.optional(f.listOf(preKey)),
      pqOneTimePreKeys: v.optional(f.listOf(signedPreKey)),
      // Required by the server (PROTOCOL.md "Prekeys"); optional here so an older client hears a typed error.
      proof: v.optional(f.signature),
    }),
    frame('prekeys_low', { oneTimePreKeys: f.uint, pqOneTimePreKeys: f.uint }),
    frame('bundle_fetch', { id: f.requestId, account: f.accountName }),
    frame('bundles', {
      id: f.requestId,
      account: f.accountName,
      accountKey: f.publicKey,
      deviceList,
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
    // A sealed envelope (`sealed: true`) carries no `from`: the sender is inside the payload (PROTOCOL.md "Sealed sender").
    frame('deliver', {
      envelopeId: f.envelopeId,
      from: v.optional(address),
      sealed: v.optional(v.literal(true)),
      serverTime: f.timestamp,
      payload: f.payload,
    }),
    frame('deliver_ack', { envelopeIds: v.pipe(f.listOf(f.envelopeId), v.minLength(1)) }),
    frame('sync', { id: f.requestId }),
    frame('sync_done', { id: f.requestId, delivered: f.uint }),

    // Sealed sender: certificates, delivery tokens, sends the server cannot attribute (PROTOCOL.md "Sealed sender").
    frame('sender_certificate', { id: f.requestId }),
    frame('certificate', {
      id: f.requestId,
      certificate: f.bytesUpTo(MAX_SENDER_CERTIFICATE_BYTES),
      expiresAt: f.timestamp,
    }),
    frame('set_delivery_token', { id: f.requestId, token: f.bytesExactly(DELIVERY_TOKEN_BYTES) }),
    frame('sealed_send', {
      id: f.requestId,
      to: f.accountName,
      deliveryToken: f.bytesExactly(DELIVERY_TOKEN_BYTES),
      envelopes: v.pipe(f.listOf(v.object({ deviceId: f.deviceId, payload: f.payload })), v.minLength(1)),
    }),

    // Ephemeral events: relayed to the devices online now, never stored, never answered (PROTOCOL.md "Ephemeral events").
    frame('send_ephemeral', {
      to: f.accountName,
      envelopes: v.pipe(
        f.listOf(v.object({ deviceId: f.deviceId, payload: f.bytesUpTo(MAX_EPHEMERAL_PAYLOAD_BYTES) })),
        v.minLength(1),
      ),
    }),
    frame('ephemeral', { from: address, serverTime: f.timestamp, payload: f.bytesUpTo(MAX_EPHEMERAL_PAYLOAD_BYTES) }),

    // Channels (PROTOCOL.md "Channels").
    frame('subscribe', {
      id: f.requestId,
      channel: f.channelName,
      since: v.optional(v.object({ epoch: f.text, offset: f.uint })),
      presence: v.optional(v.boolean()),
      // Never announced nor listed in presence (PROTOCOL.md "Presence").
      invisible: v.optional(v.boolean()),
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
