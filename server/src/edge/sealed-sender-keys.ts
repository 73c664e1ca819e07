import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IdentityKeyPair, SenderCertificate, ServerCertificate } from '@pulse/crypto';
import type { SealedSenderAuthority } from '../core/ports/sealed-sender.ts';

/**
 * The sealed-sender keys (PROTOCOL.md "Sealed sender"), in a file of their own
 * beside the token keys (`[sealed_sender] keys`, mode 0600), never in the
 * database: the trust root clients pin (its public key is in `/pulse/info`),
 * the server key that signs sender certificates, and the server certificate
 * (libsignal's ServerCertificate: key id and server public key, signed by the
 * trust root).
 *
 * Made on first start with both private keys. An operator who wants the trust
 * root offline writes the file without `trustRoot.privateKey`: the server then
 * needs only the server key and a certificate the root signed elsewhere (made
 * with @pulse/crypto's ServerCertificate.issue, or libsignal's). Losing this
 * file means a new trust root: every client that pinned the old one refuses
 * the new server's certificates (sealed sending stops for them, plain sending
 * goes on), so back it up apart from the database. A file that cannot be read
 * as these keys stops the start; it is never silently regenerated.
 */

const FORMAT = 'pulse-sealed-sender-keys/1';
/** The server key id of a file made on first start. */
const FIRST_KEY_ID = 1;

export interface SealedSenderKeys {
  /** The trust root's public key (33 bytes): what clients pin. */
  readonly trustRoot: Uint8Array;
  /** The trust root's key pair, when it is kept here (absent: an offline root). */
  readonly trustRootKeyPair: IdentityKeyPair | undefined;
  readonly serverKey: IdentityKeyPair;
  readonly serverCertificate: ServerCertificate;
}

/** Why the sealed-sender key file was refused; `code` is stable. */
export class SealedSenderKeysError extends Error {
  override readonly name = 'SealedSenderKeysError';
  readonly code: 'SEALED_SENDER_KEYS_CORRUPT' | 'SEALED_SENDER_KEYS_UNPROTECTED' | 'SEALED_SENDER_KEYS_UNREADABLE';
  constructor(code: SealedSenderKeysError['code'], path: string, detail: string) {
    super(`sealed sender keys ${path}: ${detail}`);
    this.code = code;
  }
}

/** `[sealed_sender] keys`, or `sealed-sender-keys` in the token key file's directory. */
export function sealedSenderKeysPath(config: { sealedSender: { keys: string } }, tokenKeysPath: string): string {
  return config.sealedSender.keys === ''
    ? join(dirname(tokenKeysPath), 'sealed-sender-keys')
    : config.sealedSender.keys;
}

interface KeyFile {
  readonly format: typeof FORMAT;
  readonly trustRoot: { readonly publicKey: string; readonly privateKey?: string };
  readonly server: { readonly keyId: number; readonly keyPair: string; readonly certificate: string };
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytesOf = (text: unknown): Uint8Array | undefined =>
  typeof text === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(text)
    ? new Uint8Array(Buffer.from(text, 'base64'))
    : undefined;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function parse(path: string, text: string): SealedSenderKeys {
  const corrupt = (detail: string) => new SealedSenderKeysError('SEALED_SENDER_KEYS_CORRUPT', path, detail);
  let file: Partial<KeyFile>;
  try {
    file = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof file !== 'object' || file === null || file.format !== FORMAT) throw corrupt(`not a ${FORMAT} file`);
  const trustRoot = bytesOf(file.trustRoot?.publicKey);
  const serverPair = bytesOf(file.server?.keyPair);
  const certificateBytes = bytesOf(file.server?.certificate);
  if (trustRoot === undefined || serverPair === undefined || certificateBytes === undefined) {
    throw corrupt('trustRoot.publicKey, server.keyPair and server.certificate must be base64');
  }
  try {
    const serverKey = IdentityKeyPair.deserialize(serverPair);
    const serverCertificate = ServerCertificate.deserialize(certificateBytes);
    if (!serverCertificate.isSignedBy([trustRoot]))
      throw corrupt('the server certificate is not signed by the trust root');
    if (
      !sameBytes(serverCertificate.serverKey, serverKey.publicKey) ||
      serverCertificate.keyId !== file.server?.keyId
    ) {
      throw corrupt('the server certificate names another key or key id than server.keyPair and server.keyId');
    }
    let trustRootKeyPair: IdentityKeyPair | undefined;
    if (file.trustRoot?.privateKey !== undefined) {
      const rootPair = bytesOf(file.trustRoot.privateKey);
      if (rootPair === undefined) throw corrupt('trustRoot.privateKey is not base64');
      trustRootKeyPair = IdentityKeyPair.deserialize(rootPair);
      if (!sameBytes(trustRootKeyPair.publicKey, trustRoot))
        throw corrupt('trustRoot.privateKey is not the trust root');
    }
    return { trustRoot, trustRootKeyPair, serverKey, serverCertificate };
  } catch (error) {
    if (error instanceof SealedSenderKeysError) throw error;
    throw corrupt((error as Error).message);
  }
}

function create(path: string): SealedSenderKeys {
  const root = IdentityKeyPair.generate();
  const serverKey = IdentityKeyPair.generate();
  const serverCertificate = ServerCertificate.issue(FIRST_KEY_ID, serverKey.publicKey, root);
  const file: KeyFile = {
    format: FORMAT,
    trustRoot: { publicKey: base64(root.publicKey), privateKey: base64(root.serialize()) },
    server: {
      keyId: FIRST_KEY_ID,
      keyPair: base64(serverKey.serialize()),
      certificate: base64(serverCertificate.serialize()),
    },
  };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written beside the file, then linked to its name, which fails if the name exists: a
  // crash leaves no half-written key file, and of several nodes starting at once on one
  // shared file (cluster mode), the first one's keys win and the others load them.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadSealedSenderKeys(path);
  } finally {
    unlinkSync(temporary);
  }
  return { trustRoot: root.publicKey, trustRootKeyPair: root, serverKey, serverCertificate };
}

/**
 * The keys at `path`, made on first start. Throws SealedSenderKeysError for a
 * file that is damaged, inconsistent, or readable by others.
 */
export function loadSealedSenderKeys(path: string): SealedSenderKeys {
  let text: string;
  try {
    const mode = statSync(path).mode;
    // As with the token keys (secret.ts): a private key others may read is not private.
    if ((mode & 0o077) !== 0) {
      throw new SealedSenderKeysError(
        'SEALED_SENDER_KEYS_UNPROTECTED',
        path,
        `mode ${(mode & 0o777).toString(8)}, expected 600`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof SealedSenderKeysError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return create(path);
    throw new SealedSenderKeysError('SEALED_SENDER_KEYS_UNREADABLE', path, (error as Error).message);
  }
  return parse(path, text);
}

/** The core's sealed-sender port on these keys: certificates signed by the server key, tokens hashed with SHA-256. */
export function sealedSenderAuthority(keys: SealedSenderKeys, certificateTtlMs: number): SealedSenderAuthority {
  return {
    certificateTtlMs,
    issueSenderCertificate: (fields) =>
      SenderCertificate.issue(
        {
          account: fields.account,
          deviceId: fields.deviceId,
          identityKey: fields.identityKey,
          expiresAt: fields.expiresAt,
        },
        keys.serverCertificate,
        keys.serverKey,
      ).serialize(),
    deliveryTokenVerifier: (token) => new Uint8Array(createHash('sha256').update(token).digest()),
  };
}
