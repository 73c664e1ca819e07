import { describe, expect, it, vi } from 'vitest';
import { CryptoErrorCode } from '../errors.ts';
import * as identity from '../keys/identity.ts';
import { generateIdentityKeyPair } from '../keys/identity.ts';
import { DAY_MS, makePki, NOW } from '../testing/sealed-sender.ts';
import { SenderCertificate } from './sender-certificate.ts';
import { VerifiedCertificates } from './verified-certificates.ts';

const code = (c: string) => expect.objectContaining({ code: c });

describe('verified sender certificates', () => {
  it('verify the two signatures of a certificate once, and still check expiry every time', () => {
    const pki = makePki();
    const cert = SenderCertificate.deserialize(pki.issue(generateIdentityKeyPair(), 'alice', 1).serialize());
    const verified = new VerifiedCertificates();
    const trustRoots = [pki.trustRoot.publicKey];
    const verify = vi.spyOn(identity, 'xeddsaVerify');
    cert.validate({ trustRoots, now: NOW, verified });
    const first = verify.mock.calls.length;
    expect(first).toBe(2);
    for (let i = 0; i < 10; i++) cert.validate({ trustRoots, now: NOW + i, verified });
    expect(verify.mock.calls.length).toBe(first);
    expect(() => cert.validate({ trustRoots, now: NOW + DAY_MS + 1, verified })).toThrow(
      code(CryptoErrorCode.CertificateExpired),
    );
    verify.mockRestore();
  });

  it('remember a certificate only under the roots it verified with, and never one that failed', () => {
    const pki = makePki(7);
    const other = makePki(7);
    const cert = pki.issue(generateIdentityKeyPair(), 'alice', 1);
    const verified = new VerifiedCertificates();
    expect(() => cert.validate({ trustRoots: [other.trustRoot.publicKey], now: NOW, verified })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
    expect(verified.size).toBe(0);
    cert.validate({ trustRoots: [pki.trustRoot.publicKey], now: NOW, verified });
    // Verified under pki's root: still refused under another deployment's root.
    expect(() => cert.validate({ trustRoots: [other.trustRoot.publicKey], now: NOW, verified })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
  });

  it('refuse a remembered certificate once its server key is revoked', () => {
    const pki = makePki(9);
    const cert = pki.issue(generateIdentityKeyPair(), 'alice', 1);
    const verified = new VerifiedCertificates();
    const trustRoots = [pki.trustRoot.publicKey];
    cert.validate({ trustRoots, now: NOW, verified });
    expect(() => cert.validate({ trustRoots, now: NOW, verified, revokedServerKeyIds: [9] })).toThrow(
      code(CryptoErrorCode.UntrustedCertificate),
    );
  });

  it('hold at most their bound, forgetting the oldest first', () => {
    const pki = makePki();
    const verified = new VerifiedCertificates(2);
    const trustRoots = [pki.trustRoot.publicKey];
    const certs = [1, 2, 3].map((device) => pki.issue(generateIdentityKeyPair(), 'alice', device));
    for (const cert of certs) cert.validate({ trustRoots, now: NOW, verified });
    expect(verified.size).toBe(2);
    expect(verified.has(certs[0]!.serialize(), trustRoots)).toBe(false);
    expect(verified.has(certs[2]!.serialize(), trustRoots)).toBe(true);
  });
});
