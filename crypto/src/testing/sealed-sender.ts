/**
 * Test support: a sealed-sender PKI (trust root, server key and certificate) that issues sender
 * certificates, as the server will.
 */
import { generateIdentityKeyPair, type IdentityKeyPair } from '../keys/identity.ts';
import { SenderCertificate } from '../sealed-sender/sender-certificate.ts';
import { ServerCertificate } from '../sealed-sender/server-certificate.ts';

export const DAY_MS = 86_400_000;
/** A fixed "now" for tests: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);

export interface TestPki {
  trustRoot: IdentityKeyPair;
  serverKey: IdentityKeyPair;
  serverCertificate: ServerCertificate;
  issue(identity: IdentityKeyPair, account: string, deviceId: number, expiresAt?: number): SenderCertificate;
}

export function makePki(keyId = 1): TestPki {
  const trustRoot = generateIdentityKeyPair();
  const serverKey = generateIdentityKeyPair();
  const serverCertificate = ServerCertificate.issue(keyId, serverKey.publicKey, trustRoot);
  return {
    trustRoot,
    serverKey,
    serverCertificate,
    issue: (identity, account, deviceId, expiresAt = NOW + DAY_MS) =>
      SenderCertificate.issue(
        { account, deviceId, identityKey: identity.publicKey, expiresAt },
        serverCertificate,
        serverKey,
      ),
  };
}
