/**
 * Who a connection's client is, for per-IP limits: the TCP/UDP peer, or behind
 * a configured proxy the address that proxy saw (X-Forwarded-For); then grouped
 * so one host counts once: IPv4 as is, IPv6 by its /64 (a host usually holds a
 * whole /64, RFC 4291 §2.5.1: full addresses would give it 2^64 budgets).
 * PROXY protocol is not read: a TCP proxy in front of the WebSocket port must
 * speak HTTP (X-Forwarded-For), or the per-IP limits see the proxy.
 */
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

/** `::ffff:192.0.2.1` → `192.0.2.1`; other addresses unchanged (without an IPv6 zone). */
function unmapped(address: string): string {
  const plain = address.split('%')[0] as string;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  return mapped === null ? plain : (mapped[1] as string);
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The key per-IP limits count under: `192.0.2.1`, or `2001:db8:1:2::/64`; anything else unchanged. */
export function addressGroup(address: string): string {
  const plain = unmapped(address);
  if (isIPv4(plain) || !isIPv6(plain)) return plain;
  return `${ipv6Groups(plain)
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

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
