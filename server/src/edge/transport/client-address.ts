/**
 * Who a connection's client is, for per-IP limits: the TCP/UDP peer, or behind
 * a configured proxy the address that proxy saw (X-Forwarded-For); then grouped
 * so one host counts once: IPv4 as is, IPv6 by its /64 (a host usually holds a
 * whole /64, RFC 4291 §2.5.1: full addresses would give it 2^64 budgets).
 * PROXY protocol is not read: a TCP proxy in front of the WebSocket port must
 * speak HTTP (X-Forwarded-For), or the per-IP limits see the proxy.
 */
import { BlockList, isIP } from 'node:net';
import { sourceKey } from '@pulse/webtransport/node';

/** `::ffff:192.0.2.1` → `192.0.2.1`; other addresses unchanged (without an IPv6 zone). */
function unmapped(address: string): string {
  const plain = address.split('%')[0] as string;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  return mapped === null ? plain : (mapped[1] as string);
}

/**
 * The key per-IP limits count under: `192.0.2.1`, or `2001:db8:1:2::/64`; anything
 * else unchanged. The same grouping the QUIC handshake limits use (one definition).
 */
export const addressGroup: (address: string) => string = sourceKey;

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** `entries`: addresses or CIDR ranges (checked by the configuration). */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, Number(bits), type);
    }
    this.size = entries.length;
  }

  #trusts(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: the peer itself unless it is a trusted proxy; then
   * X-Forwarded-For read from the right (each proxy appends the address it saw),
   * skipping trusted proxies: the first address nobody we trust could have
   * written is the client. A malformed entry there means the chain cannot be
   * read: the last trusted hop counts as the client (its users share its limits).
   */
  clientAddress(peer: string, forwardedFor: string | string[] | undefined): string {
    let client = unmapped(peer);
    if (this.size === 0 || forwardedFor === undefined || !this.#trusts(client)) return client;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped((hops[i] as string).trim());
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.#trusts(hop)) return client;
    }
    return client;
  }
}
