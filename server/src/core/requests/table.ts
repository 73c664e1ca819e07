import { authenticateDevice, authenticateToken, checkAuthAttempt, registerAccount } from './authentication.ts';
import { linkDevice, listDevices, removeDevice } from './devices.ts';
import { sendEnvelopes } from './envelopes.ts';
import { fetchBundles, uploadPreKeys, warnOwners } from './prekeys.ts';
import type { RequestTable } from './request.ts';

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
  pong: { phase: 'greeted', handle: () => {} },
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
    handle: (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      session.authenticated(frame.id, registerAccount(ctx, session.challenge, frame, now, session.remoteAddress), now);
    },
  },
  auth: {
    phase: 'greeted',
    handle: (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      session.authenticated(frame.id, authenticateDevice(ctx, session.challenge, frame), now);
    },
  },
  auth_token: {
    phase: 'greeted',
    handle: (ctx, session, frame, now) => {
      checkAuthAttempt(ctx, session, now);
      session.authenticated(frame.id, authenticateToken(ctx, frame, now), now);
    },
  },

  // Devices.
  device_link: {
    phase: 'authenticated',
    handle: (ctx, session, frame, now) =>
      session.out.send(linkDevice(ctx, session.device.account, session.challenge, frame, now)),
  },
  device_list: {
    phase: 'authenticated',
    handle: (ctx, session, frame) => session.out.send(listDevices(ctx, session.device.account, frame)),
  },
  device_remove: {
    phase: 'authenticated',
    handle: (ctx, session, frame) => {
      const { account } = session.device;
      session.out.send(removeDevice(ctx, account, frame));
      ctx.hub.get(account, frame.deviceId)?.close('AUTH_FAILED', 'this device was removed from the account');
    },
  },

  // Prekeys.
  prekeys_upload: {
    phase: 'authenticated',
    handle: (ctx, session, frame) => session.out.send(uploadPreKeys(ctx, session.device, frame)),
  },
  bundle_fetch: {
    phase: 'authenticated',
    handle: (ctx, session, frame, now) => {
      const onLimit = (limit: string) => session.out.limitHit(limit);
      const { answer, taken } = fetchBundles(ctx, session.device.account, frame, now, onLimit);
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
  deliver_ack: { phase: 'authenticated', handle: (_ctx, session, frame) => session.delivery?.ack(frame.envelopeIds) },
  sync: {
    phase: 'authenticated',
    handle: (_ctx, session, frame) =>
      session.out.send({ type: 'sync_done', id: frame.id, delivered: session.delivery?.resync() ?? 0 }),
  },

  // Channels.
  subscribe: { phase: 'authenticated', handle: (_ctx, session, frame) => session.subscriptions.subscribe(frame) },
  unsubscribe: { phase: 'authenticated', handle: (_ctx, session, frame) => session.subscriptions.unsubscribe(frame) },
  publish: {
    phase: 'authenticated',
    handle: (_ctx, session, frame, now) => session.subscriptions.publish(frame, session.member, now),
  },
};
