/**
 * Development certificate for `serverCertificateHashes`: browsers accept a
 * self-signed certificate by hash only if it is ECDSA (P-256 or P-384) and valid
 * for at most 14 days (W3C WebTransport §"custom certificate requirements"). It is
 * kept under the data directory and replaced once less than a third of its
 * lifetime remains, so a restart does not change the hash needlessly.
 */
import { createHash, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 loads tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** Validity of a generated certificate (browsers refuse more than 14 days). */
export const DEV_CERTIFICATE_VALIDITY_DAYS = 13;
/** Renew when less than this remains. */
export const DEV_CERTIFICATE_RENEW_BEFORE_DAYS = 4;

const DAY_MS = 24 * 60 * 60 * 1000;
const CERT_FILE = 'webtransport-dev-cert.pem';
const KEY_FILE = 'webtransport-dev-key.pem';

export interface DevCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER certificate: the value for `serverCertificateHashes`. */
  readonly sha256: Uint8Array;
  readonly notAfter: Date;
}

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** Hash and expiry of a PEM certificate. */
export function describeCertificate(certPem: string): { sha256: Uint8Array; notAfter: Date; notBefore: Date } {
  const certificate = new x509.X509Certificate(certPem);
  return {
    sha256: new Uint8Array(createHash('sha256').update(new Uint8Array(certificate.rawData)).digest()),
    notAfter: certificate.notAfter,
    notBefore: certificate.notBefore,
  };
}

/** Generates a fresh ECDSA P-256 self-signed certificate for localhost, valid from `now`. */
export async function createDevCertificate(now: Date = new Date()): Promise<DevCertificate> {
  const crypto = webcrypto as unknown as Crypto;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  // Back-date by a minute so small clock differences do not reject a fresh certificate.
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + DEV_CERTIFICATE_VALIDITY_DAYS * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: 'CN=localhost',
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
        new x509.BasicConstraintsExtension(false, undefined, true),
      ],
    },
    crypto,
  );
  const certPem = certificate.toString('pem');
  const keyPem = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: `${certPem.trim()}\n`, keyPem, ...describeCertificate(certPem) };
}

/**
 * Loads the development certificate from `dataDir`, or creates (and stores) a new
 * one when it is missing, unreadable, not yet valid, or close to expiry.
 */
export async function loadOrCreateDevCertificate(dataDir: string, now: Date = new Date()): Promise<DevCertificate> {
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const { sha256, notAfter, notBefore } = describeCertificate(certPem);
    const fresh =
      notBefore.getTime() <= now.getTime() &&
      notAfter.getTime() - now.getTime() > DEV_CERTIFICATE_RENEW_BEFORE_DAYS * DAY_MS;
    if (fresh) return { certPem, keyPem, sha256, notAfter };
  } catch {
    // Missing or corrupt: create a new one below.
  }
  const created = await createDevCertificate(now);
  await mkdir(dataDir, { recursive: true });
  // Write then rename, so a crash never leaves a half-written pair.
  await writeFile(`${keyPath}.tmp`, created.keyPem, { mode: 0o600 });
  await writeFile(`${certPath}.tmp`, created.certPem);
  await rename(`${keyPath}.tmp`, keyPath);
  await rename(`${certPath}.tmp`, certPath);
  return created;
}

/** Production: certificate and key from PEM files named in configuration. */
export async function loadCertificateFiles(certPath: string, keyPath: string): Promise<DevCertificate> {
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  const { sha256, notAfter } = describeCertificate(certPem);
  return { certPem, keyPem, sha256, notAfter };
}
