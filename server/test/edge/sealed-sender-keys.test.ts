import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair, SenderCertificate, ServerCertificate } from '@pulse/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadSealedSenderKeys,
  SealedSenderKeysError,
  sealedSenderAuthority,
  sealedSenderKeysPath,
} from '../../src/edge/sealed-sender-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'pulse-sealed-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `keys-${++n}`, 'sealed-sender-keys');

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof SealedSenderKeysError ? error.code : String(error);
  }
  return undefined;
};

describe('sealed sender key file', () => {
  it('is made on first start, mode 0600, and read back as the same keys', () => {
    const path = fresh();
    const made = loadSealedSenderKeys(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(made.serverCertificate.isSignedBy([made.trustRoot])).toBe(true);
    const again = loadSealedSenderKeys(path);
    expect(again.trustRoot).toEqual(made.trustRoot);
    expect(again.serverKey.publicKey).toEqual(made.serverKey.publicKey);
    expect(again.serverCertificate.equals(made.serverCertificate)).toBe(true);
  });

  it('lives beside the token key file unless [sealed_sender] keys names one', () => {
    expect(sealedSenderKeysPath({ sealedSender: { keys: '' } }, '/etc/pulse/token-keys')).toBe(
      '/etc/pulse/sealed-sender-keys',
    );
    expect(sealedSenderKeysPath({ sealedSender: { keys: '/k/s' } }, '/etc/pulse/token-keys')).toBe('/k/s');
  });

  it('refuses a file others may read, a damaged one, and one whose certificate another root signed', () => {
    const path = fresh();
    loadSealedSenderKeys(path);
    chmodSync(path, 0o640);
    expect(codeOf(() => loadSealedSenderKeys(path))).toBe('SEALED_SENDER_KEYS_UNPROTECTED');
    chmodSync(path, 0o600);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, 40), { mode: 0o600 });
    expect(codeOf(() => loadSealedSenderKeys(path))).toBe('SEALED_SENDER_KEYS_CORRUPT');
    const file = JSON.parse(text) as { server: { keyPair: string; certificate: string } };
    const serverKey = IdentityKeyPair.deserialize(new Uint8Array(Buffer.from(file.server.keyPair, 'base64')));
    const foreign = ServerCertificate.issue(1, serverKey.publicKey, IdentityKeyPair.generate());
    file.server.certificate = Buffer.from(foreign.serialize()).toString('base64');
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
    expect(codeOf(() => loadSealedSenderKeys(path))).toBe('SEALED_SENDER_KEYS_CORRUPT');
  });

  it('runs with an offline trust root: no root private key, a certificate the root signed elsewhere', () => {
    const path = fresh();
    loadSealedSenderKeys(path);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { trustRoot: { privateKey?: string } };
    delete file.trustRoot.privateKey;
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
    const keys = loadSealedSenderKeys(path);
    expect(keys.trustRootKeyPair).toBeUndefined();
    const authority = sealedSenderAuthority(keys, 60_000);
    const identityKey = IdentityKeyPair.generate().publicKey;
    const bytes = authority.issueSenderCertificate({ account: 'alice', deviceId: 2, identityKey, expiresAt: 5 });
    const certificate = SenderCertificate.deserialize(bytes);
    expect(() => certificate.validate({ trustRoots: [keys.trustRoot], now: 5 })).not.toThrow();
    expect(certificate).toMatchObject({ account: 'alice', deviceId: 2, expiresAt: 5 });
    expect(authority.deliveryTokenVerifier(new Uint8Array(32))).toHaveLength(32);
  });
});
