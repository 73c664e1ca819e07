import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { CryptoErrorCode } from '../errors.ts';
import { generateIdentityKeyPair } from '../keys/identity.ts';
import { DAY_MS, makePki, NOW } from '../testing/sealed-sender.ts';
import { ProtoWriter } from './protobuf.ts';
import { SenderCertificate } from './sender-certificate.ts';
import { REVOKED_SERVER_KEY_IDS, ServerCertificate } from './server-certificate.ts';

const code = (c: string) => expect.objectContaining({ code: c });

describe('server and sender certificates', () => {
  it('round-trip through their wire form with every field intact', () => {
    const pki = makePki(42);
    const alice = generateIdentityKeyPair();
    const cert = pki.issue(alice, 'alice', 3);
    const parsed = SenderCertificate.deserialize(cert.serialize());
    expect(parsed.account).toBe('alice');
    expect(parsed.deviceId).toBe(3);
    expect(toHex(parsed.identityKey)).toBe(toHex(alice.publicKey));
    expect(parsed.expiresAt).toBe(NOW + DAY_MS);
    expect(parsed.signer.keyId).toBe(42);
    expect(toHex(parsed.signer.serverKey)).toBe(toHex(pki.serverKey.publicKey));
    expect(parsed.signer.equals(pki.serverCertificate)).toBe(true);
    expect(toHex(parsed.serialize())).toBe(toHex(cert.serialize()));
    const server = ServerCertificate.deserialize(pki.serverCertificate.serialize());
    expect(server.keyId).toBe(42);
    expect(server.isSignedBy([pki.trustRoot.publicKey])).toBe(true);
  });

  it('validate accepts a certificate until its expiration, inclusive, and refuses it one millisecond later', () => {
    const pki = makePki();
    const cert = pki.issue(generateIdentityKeyPair(), 'alice', 1, NOW);
    const trustRoots = [pki.trustRoot.publicKey];
    expect(() => cert.validate({ trustRoots, now: NOW })).not.toThrow();
    expect(() => cert.validate({ trustRoots, now: NOW + 1 })).toThrow(code(CryptoErrorCode.CertificateExpired));
  });

  it('validate refuses a chain that does not reach a pinned trust root', () => {
    const pki = makePki();
    const other = makePki();
    const cert = pki.issue(generateIdentityKeyPair(), 'alice', 1);
    // Another deployment's root.
    expect(() => cert.validate({ trustRoots: [other.trustRoot.publicKey], now: NOW })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
    // One of several pinned roots is enough, whichever position it has.
    expect(() =>
      cert.validate({ trustRoots: [other.trustRoot.publicKey, pki.trustRoot.publicKey], now: NOW }),
    ).not.toThrow();
    // A valid server certificate, but the sender certificate signed by a key it does not certify.
    const rogue = generateIdentityKeyPair();
    const forged = SenderCertificate.issue(
      { account: 'alice', deviceId: 1, identityKey: rogue.publicKey, expiresAt: NOW + DAY_MS },
      ServerCertificate.issue(1, rogue.publicKey, rogue),
      rogue,
    );
    const certified = rebuildWithSigner(forged, pki.serverCertificate);
    const swapped = new ProtoWriter().bytes(1, certified).bytes(2, rogue.sign(certified)).finish();
    expect(() =>
      SenderCertificate.deserialize(swapped).validate({ trustRoots: [pki.trustRoot.publicKey], now: NOW }),
    ).toThrow(code(CryptoErrorCode.UntrustedCertificate));
    // A self-made server certificate is refused at the first link.
    expect(() => forged.validate({ trustRoots: [pki.trustRoot.publicKey], now: NOW })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
    expect(() => cert.validate({ trustRoots: [], now: NOW })).toThrow(code(CryptoErrorCode.InvalidArgument));
  });

  it("refuses libsignal's revoked server key id and the caller's own revoked ids", () => {
    expect(REVOKED_SERVER_KEY_IDS).toEqual([0xdeadc357]);
    const revoked = makePki(0xdeadc357);
    const trustRoots = [revoked.trustRoot.publicKey];
    expect(() => revoked.issue(generateIdentityKeyPair(), 'a1b', 1).validate({ trustRoots, now: NOW })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
    const pki = makePki(7);
    const cert = pki.issue(generateIdentityKeyPair(), 'a1b', 1);
    const options = { trustRoots: [pki.trustRoot.publicKey], now: NOW };
    expect(() => cert.validate(options)).not.toThrow();
    expect(() => cert.validate({ ...options, revokedServerKeyIds: [7] })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
  });

  it('every one-bit change of a sender certificate is refused, by the parser or by validation', () => {
    const pki = makePki();
    const bytes = pki.issue(generateIdentityKeyPair(), 'alice', 2).serialize();
    const options = { trustRoots: [pki.trustRoot.publicKey], now: NOW };
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const changed = bytes.slice();
        changed[i]! ^= bit;
        expect(() => SenderCertificate.deserialize(changed).validate(options), `byte ${i} bit ${bit}`).toThrow(
          expect.objectContaining({ name: 'CryptoError' }),
        );
      }
    }
  });

  it('issue refuses arguments nobody could verify or parse', () => {
    const pki = makePki();
    const identityKey = generateIdentityKeyPair().publicKey;
    const base = { account: 'alice', deviceId: 1, identityKey, expiresAt: NOW };
    const issue = (fields: object, key = pki.serverKey) =>
      SenderCertificate.issue({ ...base, ...fields }, pki.serverCertificate, key);
    expect(() => issue({}, generateIdentityKeyPair())).toThrow(code(CryptoErrorCode.InvalidArgument));
    for (const bad of [
      { deviceId: 0 },
      { deviceId: 2 ** 32 },
      { account: '' },
      { account: 'x'.repeat(256) },
      { expiresAt: -1 },
      { expiresAt: 2 ** 53 },
    ]) {
      expect(() => issue(bad), JSON.stringify(bad)).toThrow(code(CryptoErrorCode.InvalidArgument));
    }
    expect(() => issue({ identityKey: identityKey.subarray(1) })).toThrow(code(CryptoErrorCode.InvalidKey));
    expect(() => ServerCertificate.issue(-1, identityKey, pki.trustRoot)).toThrow(
      code(CryptoErrorCode.InvalidArgument),
    );
  });

  it('the parser refuses missing and repeated fields, truncation, bad keys, device 0 and invalid UTF-8', () => {
    const pki = makePki();
    const identityKey = generateIdentityKeyPair().publicKey;
    const signer = pki.serverCertificate.serialize();
    const data = (edit: (w: ProtoWriter) => ProtoWriter) => {
      const certificate = edit(new ProtoWriter()).finish();
      return new ProtoWriter().bytes(1, certificate).bytes(2, new Uint8Array(64)).finish();
    };
    const full = (w: ProtoWriter) =>
      w.uint(2, 1).fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer).string(6, 'alice');
    expect(SenderCertificate.deserialize(data(full)).account).toBe('alice');
    const malformed = [
      data((w) => w.uint(2, 1).fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer)), // no account
      data((w) => w.fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer).string(6, 'alice')), // no device
      data((w) => full(w).uint(2, 2)), // device twice
      data((w) => w.uint(2, 0).fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer).string(6, 'alice')),
      data((w) => w.uint(2, 1).fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer).bytes(6, Uint8Array.of(0xff))),
      data((w) => w.uint(2, 1).uint(3, 5).bytes(4, identityKey).bytes(5, signer).string(6, 'alice')), // wrong wire type
      data((w) => w.uint(2, 1).fixed64(3, NOW).bytes(4, identityKey).bytes(5, signer.subarray(0, 10)).string(6, 'a')),
      data((w) =>
        w
          .uint(2, 2 ** 32)
          .fixed64(3, NOW)
          .bytes(4, identityKey)
          .bytes(5, signer)
          .string(6, 'alice'),
      ),
      data(full).subarray(0, 30),
      Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // 11-byte varint
      Uint8Array.of(0x0b), // group wire type
    ];
    for (const [i, bytes] of malformed.entries()) {
      expect(() => SenderCertificate.deserialize(bytes), `case ${i}`).toThrow(code(CryptoErrorCode.MalformedMessage));
    }
    const badKey = identityKey.slice();
    badKey[0] = 0x06;
    expect(() =>
      SenderCertificate.deserialize(
        data((w) => w.uint(2, 1).fixed64(3, NOW).bytes(4, badKey).bytes(5, signer).string(6, 'alice')),
      ),
    ).toThrow(code(CryptoErrorCode.InvalidKey));
    // Unknown fields (a libsignal senderE164, a future field) are skipped, as prost skips them.
    const withExtras = data((w) => full(w.string(1, '+15550100')).uint(99, 1));
    expect(SenderCertificate.deserialize(withExtras).deviceId).toBe(1);
  });
});

/** The certificate bytes of `cert`, with its embedded signer replaced. */
function rebuildWithSigner(cert: SenderCertificate, signer: ServerCertificate): Uint8Array {
  return new ProtoWriter()
    .uint(2, cert.deviceId)
    .fixed64(3, cert.expiresAt)
    .bytes(4, cert.identityKey)
    .bytes(5, signer.serialize())
    .string(6, cert.account)
    .finish();
}
