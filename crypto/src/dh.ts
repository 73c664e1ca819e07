import { CryptoError, CryptoErrorCode } from './errors.ts';
import type { Primitives, X25519KeyPairBytes } from './primitives/index.ts';

/**
 * DH(PK1, PK2) of X3DH §2.3 with the check RFC 7748 §6.1 asks for: an all-zero
 * output means the peer sent a low-order point, and the agreement is refused.
 */
export async function dh(p: Primitives, own: X25519KeyPairBytes, peerPublicKey: Uint8Array): Promise<Uint8Array> {
  const out = await p.x25519(own, peerPublicKey);
  let acc = 0;
  for (const b of out) acc |= b;
  if (acc === 0) throw new CryptoError(CryptoErrorCode.LowOrderPoint, 'X25519 agreement produced all zeros');
  return out;
}
