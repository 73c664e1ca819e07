/**
 * Sealed sender on the wire (PROTOCOL.md "Sealed sender", issue 14) through the
 * real server over real sockets, WebSocket and WebTransport: a certificate for
 * the asking device under the trust root `/pulse/info` publishes, sealed sends
 * refused without the recipient's delivery token, and a sealed envelope stored
 * and delivered with no sender, which the recipient opens to find the sender.
 */
import { join } from 'node:path';
import {
  ContentHint,
  SenderCertificate,
  sealedSenderDecrypt,
  sealedSenderEncrypt,
  UnidentifiedSenderMessageContent,
} from '@pulse/crypto';
import type { Frame, FrameOf } from '@pulse/proto';
import { dialWebSocket, dialWebTransport, ListeningServer, type OpenTransport, register } from '@pulse/testing';
import { createDevCertificate } from '@pulse/webtransport/node';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { withServer } from '../helpers/with-server.ts';

vi.setConfig({ testTimeout: 60_000 });

const certificate = await createDevCertificate();
const token = (n: number) => new Uint8Array(32).fill(n);
const outcome = (frame: Frame) => (frame.type === 'error' ? frame.code : frame.type);

async function trustRootOf(server: ListeningServer): Promise<Uint8Array> {
  const info = (await (await fetch(`${server.baseUrl}/pulse/info`)).json()) as { sealedSender: { trustRoot: string } };
  return new Uint8Array(Buffer.from(info.sealedSender.trustRoot, 'base64'));
}

const transports: [string, (server: ListeningServer) => OpenTransport][] = [
  ['WebSocket', (server) => dialWebSocket(server.websocketUrl)],
  ['WebTransport', (server) => dialWebTransport(server.webtransportUrl, certificate.sha256)],
];

for (const [name, dial] of transports) {
  describe(`sealed sender over ${name}`, () => {
    it('certifies the asking device, refuses sends without the token, stores and delivers sealed ones senderless', async () => {
      await withServer(
        () => ListeningServer.start({ certificate }),
        async (server) => {
          const open = dial(server);
          const alice = await register(open);
          const bob = await register(open);
          const trustRoot = await trustRootOf(server);

          const answer = await alice.client.request({ type: 'sender_certificate', id: 0 });
          if (answer.type !== 'certificate') throw new Error(outcome(answer));
          const senderCertificate = SenderCertificate.deserialize(answer.certificate);
          senderCertificate.validate({ trustRoots: [trustRoot], now: Date.now() });
          expect(senderCertificate).toMatchObject({ account: alice.account, deviceId: alice.deviceId });
          expect(senderCertificate.identityKey).toEqual(alice.identity.publicKey);

          const sealed = await sealedSenderEncrypt(
            new UnidentifiedSenderMessageContent({
              type: 'message',
              senderCertificate,
              content: Uint8Array.of(1, 2, 3),
              contentHint: ContentHint.Resendable,
            }),
            { sender: alice.identity, recipientIdentityKey: bob.identity.publicKey },
          );
          const send = (to: string, deliveryToken: Uint8Array): FrameOf<'sealed_send'> => ({
            type: 'sealed_send',
            id: 0,
            to,
            deliveryToken,
            envelopes: [{ deviceId: 1, payload: sealed }],
          });
          // No token registered, an unknown account, a wrong token: the same refusal.
          expect(outcome(await alice.client.request(send(bob.account, token(2))))).toBe('UNAUTHORIZED');
          expect(outcome(await alice.client.request(send('nobody-here', token(2))))).toBe('UNAUTHORIZED');
          expect(outcome(await bob.client.request({ type: 'set_delivery_token', id: 0, token: token(2) }))).toBe('ok');
          expect(outcome(await alice.client.request(send(bob.account, token(3))))).toBe('UNAUTHORIZED');

          expect(outcome(await alice.client.request(send(bob.account, token(2))))).toBe('sent');
          const delivered = await bob.client.next('deliver');
          expect(delivered.sealed).toBe(true);
          expect(delivered.from).toBeUndefined();

          // Before bob acknowledges it, the row holds no sender.
          const db = new Database(join(server.dataDir, 'pulse.db'), { readonly: true });
          const rows = db
            .prepare('SELECT sender, sender_device, payload FROM envelopes WHERE account = ?')
            .all(bob.account) as { sender: string | null; sender_device: number | null; payload: Buffer }[];
          db.close();
          expect(rows.map((row) => [row.sender, row.sender_device])).toEqual([[null, null]]);
          expect(rows[0]!.payload.includes(Buffer.from(alice.account))).toBe(false);

          const opened = await sealedSenderDecrypt(delivered.payload, {
            trustRoots: [trustRoot],
            now: delivered.serverTime,
            recipient: { account: bob.account, deviceId: bob.deviceId, identity: bob.identity },
            isExpectedSender: (sender) => sender.account === alice.account,
          });
          expect(opened.sender).toMatchObject({ account: alice.account, deviceId: alice.deviceId });
          expect(opened.content).toEqual(Uint8Array.of(1, 2, 3));
        },
      );
    });
  });
}
