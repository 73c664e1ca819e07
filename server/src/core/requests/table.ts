import { authenticateDevice, authenticateToken, checkAuthAttempt, registerAccount } from './authentication.ts';
import { listDevices, listLinks, requestLink, updateDeviceList } from './devices.ts';
import { sendEnvelopes } from './envelopes.ts';
import { relayEphemeral } from './ephemeral.ts';
import { fetchBundles, uploadPreKeys, warnOwners } from './prekeys.ts';
import type { RequestTable } from './request.ts';
import { issueSenderCertificate, sealedSend, setDeliveryToken } from './sealed.ts';

/**
 * THE request table: every frame a client may send, the phase from which it is
 * accepted, and its handler, all of one shape. Adding a request is one entry
 * here (and its frame in @pulse/proto). Server-to-client frames are absent: a
 * client sending one gets PROTO_UNKNOWN_TYPE (session/dispatch.ts).
 */
export const REQUESTS: RequestTable = {
  // Handshake and liveness.
  hello: { phase: 'always', handle: (_ctx, session, frame, now) => session.acceptHello(frame, now) },
  ping: { phase: 'always', handle: (_ctx, session, frame) => session.out.send({ type: 'pong', nonce: frame.nonce }) },
  // Answers the server's heartbeat `ping`, on anonymous connections too.
  pong: { phase: 'greeted', anonymous: true, handle: () => {} },
  close: {
    phase: 'always',
    handle: (ctx, session, frame) => {
      ctx.log.debug({ code: frame.code }, 'peer closed');
      session.peerClosed();
    },
  },

  // Authentication: each attempt counts against the peer's budget first.
  register: {
    phase: 'greeted',
    handle: async (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      const device = await registerAccount(ctx, session.challenge, frame, now, session.remoteAddress);
      await session.authenticated(frame.id, device, now);
    },
  },
  auth: {
    phase: 'greeted',
    handle: async (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      await session.authenticated(frame.id, await authenticateDevice(ctx, session.challenge, frame), now);
    },
  },
  auth_token: {
    phase: 'greeted',
    handle: async (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      await session.authenticated(frame.id, await authenticateToken(ctx, frame, now), now);
    },
  },

  // Devices: signed device lists, and linking by approval (a token alone links nothing).
  device_list: {
    phase: 'authenticated',
    handle: async (ctx, session, frame, now) => session.out.send(await listDevices(ctx, session, frame, now)),
  },
  device_list_update: {
    phase: 'authenticated',
    handle: (ctx, session, frame, now) => updateDeviceList(ctx, session, frame, now),
  },
  link_request: {
    phase: 'greeted',
    handle: async (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      session.out.send(await requestLink(ctx, session, frame, now));
    },
  },
  link_list: {
    phase: 'authenticated',
    handle: async (ctx, session, frame, now) =>
      session.out.send(await listLinks(ctx, session.device.account, frame, now)),
  },

  // Prekeys.
  prekeys_upload: {
    phase: 'authenticated',
    handle: async (ctx, session, frame, now) => {
      const onLimit = (limit: string) => session.out.limitHit(limit);
      session.out.send(await uploadPreKeys(ctx, session.device, session.challenge, frame, now, onLimit));
    },
  },
  bundle_fetch: {
    phase: 'authenticated',
    handle: async (ctx, session, frame, now) => {
      const onLimit = (limit: string) => session.out.limitHit(limit);
      const { answer, taken } = await fetchBundles(ctx, session.device.account, frame, now, onLimit);
      session.out.send(answer);
      warnOwners(ctx, frame.account, taken);
    },
  },

  // Envelopes.
  send: {
    phase: 'authenticated',
    handle: (ctx, session, frame, now) =>
      sendEnvelopes(ctx, session.device, frame, now, session.out, session.transport),
  },
  deliver_ack: {
    phase: 'authenticated',
    handle: async (_ctx, session, frame) => await session.delivery?.ack(frame.envelopeIds),
  },
  sync: {
    phase: 'authenticated',
    handle: async (_ctx, session, frame) =>
      session.out.send({ type: 'sync_done', id: frame.id, delivered: (await session.delivery?.resync()) ?? 0 }),
  },

  // Sealed sender: the store keeps no sender; the recipient's delivery token is the price of entry.
  sender_certificate: {
    phase: 'authenticated',
    handle: async (ctx, session, frame, now) =>
      session.out.send(await issueSenderCertificate(ctx, session, frame, now)),
  },
  set_delivery_token: {
    phase: 'authenticated',
    handle: async (ctx, session, frame) => session.out.send(await setDeliveryToken(ctx, session, frame)),
  },
  // The one request an anonymous connection may make (PROTOCOL.md "Anonymous connections").
  sealed_send: { phase: 'authenticated', anonymous: true, handle: sealedSend },

  // Ephemeral events: relayed to the devices online now, never stored, never answered.
  send_ephemeral: { phase: 'authenticated', handle: relayEphemeral },

  // Channels.
  subscribe: {
    phase: 'authenticated',
    handle: (_ctx, session, frame, now) => session.subscriptions.subscribe(frame, now),
  },
  unsubscribe: { phase: 'authenticated', handle: (_ctx, session, frame) => session.subscriptions.unsubscribe(frame) },
  publish: {
    phase: 'authenticated',
    handle: (_ctx, session, frame, now) => session.subscriptions.publish(frame, session.member, now),
  },
};
