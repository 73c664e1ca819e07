import { ProtoError } from './errors.ts';

/**
 * Protocol versions. A client offers every version it speaks in `hello`; the
 * server answers `welcome` with the highest version both speak, or an error frame
 * PROTO_NO_COMMON_VERSION and a close when there is none (PROTOCOL.md, "Versions").
 */
// Version 2: signed device lists and linking by approval (device_link is gone: a token alone links nothing).
export const PROTOCOL_VERSIONS: readonly number[] = [2];
export const CURRENT_PROTOCOL_VERSION = 2;

/** Picks the highest version present in both lists. */
export function negotiateVersion(offered: readonly number[], supported: readonly number[] = PROTOCOL_VERSIONS): number {
  let best = -1;
  for (const version of offered) {
    if (version > best && supported.includes(version)) best = version;
  }
  if (best < 0) {
    throw new ProtoError(
      'PROTO_NO_COMMON_VERSION',
      `no common protocol version: offered [${offered.join(', ')}], supported [${supported.join(', ')}]`,
    );
  }
  return best;
}
