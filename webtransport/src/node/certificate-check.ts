/**
 * Server certificate checks of the Node client, done on the DER chain quiche
 * hands over after the handshake:
 *  - with `serverCertificateHashes`: the W3C rules (hash of the leaf matches,
 *    currently valid, validity period of at most 14 days);
 *  - without: Web PKI (chain up to a trusted root, dates, host name).
 * Returns undefined when the server is trusted, else why not.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

const MAX_HASH_PINNED_VALIDITY_MS = 14 * 24 * 60 * 60 * 1000;

let systemRoots: X509Certificate[] | undefined;

function currentlyValid(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

export interface CertificateCheckOptions {
  readonly hostname: string;
  /** SHA-256 hashes of acceptable leaf certificates (W3C serverCertificateHashes). */
  readonly hashes: readonly Uint8Array[];
  /** Extra trusted roots (PEM); the system roots are always trusted. */
  readonly ca?: readonly string[];
  readonly now?: Date;
}

export function checkServerCertificate(
  chainDer: readonly Uint8Array[] | null,
  options: CertificateCheckOptions,
): string | undefined {
  const now = options.now ?? new Date();
  if (chainDer === null || chainDer.length === 0) return 'server sent no certificate';
  let chain: X509Certificate[];
  try {
    chain = chainDer.map((der) => new X509Certificate(der));
  } catch {
    return 'server certificate does not parse';
  }
  const leaf = chain[0] as X509Certificate;
  if (!currentlyValid(leaf, now)) return 'server certificate is expired or not yet valid';

  if (options.hashes.length > 0) {
    const digest = createHash('sha256').update(leaf.raw).digest();
    if (!options.hashes.some((hash) => digest.equals(hash)))
      return 'server certificate does not match serverCertificateHashes';
    const lifetime = new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime();
    if (lifetime > MAX_HASH_PINNED_VALIDITY_MS) return 'a hash-pinned certificate must be valid for at most 14 days';
    return undefined;
  }

  const hostMatches = isIP(options.hostname) !== 0 ? leaf.checkIP(options.hostname) : leaf.checkHost(options.hostname);
  if (hostMatches === undefined) return `server certificate is not valid for ${options.hostname}`;
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate];
    if (!currentlyValid(parent, now) || !child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return 'server certificate chain does not verify';
    }
  }
  systemRoots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  const roots = [...systemRoots, ...(options.ca ?? []).map((pem) => new X509Certificate(pem))];
  const top = chain.at(-1) as X509Certificate;
  const anchored = roots.some(
    (root) =>
      top.raw.equals(root.raw) || (top.checkIssued(root) && top.verify(root.publicKey) && currentlyValid(root, now)),
  );
  return anchored ? undefined : 'server certificate is not issued by a trusted root';
}
