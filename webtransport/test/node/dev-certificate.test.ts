import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEV_CERTIFICATE_VALIDITY_DAYS,
  loadCertificateFiles,
  loadOrCreateDevCertificate,
} from '../../src/node/index.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('development certificate', () => {
  it('is ECDSA P-256, valid for at most 14 days, and its hash is the SHA-256 of the DER', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pulse-cert-'));
    const now = new Date();
    const created = await loadOrCreateDevCertificate(dir, now);
    const certificate = new X509Certificate(created.certPem);
    expect(certificate.publicKey.asymmetricKeyType).toBe('ec');
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const lifetime = new Date(certificate.validTo).getTime() - new Date(certificate.validFrom).getTime();
    expect(lifetime).toBeLessThanOrEqual(14 * DAY);
    expect(DEV_CERTIFICATE_VALIDITY_DAYS).toBeLessThanOrEqual(14);
    expect(Buffer.from(created.sha256)).toEqual(createHash('sha256').update(certificate.raw).digest());
    expect(certificate.checkPrivateKey((await import('node:crypto')).createPrivateKey(created.keyPem))).toBe(true);
  });

  it('is kept under the data directory and reused while fresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pulse-cert-'));
    const now = new Date();
    const first = await loadOrCreateDevCertificate(dir, now);
    const again = await loadOrCreateDevCertificate(dir, new Date(now.getTime() + 2 * DAY));
    expect(Buffer.from(again.sha256)).toEqual(Buffer.from(first.sha256));
    expect(await readFile(join(dir, 'webtransport-dev-cert.pem'), 'utf8')).toBe(first.certPem);
    const fromFiles = await loadCertificateFiles(
      join(dir, 'webtransport-dev-cert.pem'),
      join(dir, 'webtransport-dev-key.pem'),
    );
    expect(Buffer.from(fromFiles.sha256)).toEqual(Buffer.from(first.sha256));
  });

  it('is renewed before it expires, and replaced when corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pulse-cert-'));
    const now = new Date();
    const first = await loadOrCreateDevCertificate(dir, now);
    const later = new Date(now.getTime() + (DEV_CERTIFICATE_VALIDITY_DAYS - 2) * DAY);
    const renewed = await loadOrCreateDevCertificate(dir, later);
    expect(Buffer.from(renewed.sha256)).not.toEqual(Buffer.from(first.sha256));
    expect(renewed.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    await writeFile(join(dir, 'webtransport-dev-cert.pem'), 'garbage');
    const replaced = await loadOrCreateDevCertificate(dir, later);
    expect(new X509Certificate(replaced.certPem).validTo).toBeTruthy();
  });
});
