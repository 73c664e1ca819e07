import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/edge/config/config.ts';
import { addressGroup, TrustedProxies } from '../../src/edge/transport/client-address.ts';

describe('client addresses for per-IP limits', () => {
  it('groups IPv6 by /64, IPv4-mapped IPv6 as IPv4, IPv4 as is', () => {
    expect(addressGroup('192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:2::ffff')).toBe(addressGroup('2001:db8:1:2:aaaa::1'));
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(addressGroup('2001:db8:1:2::1'));
    expect(addressGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('believes X-Forwarded-For only from trusted proxies, read from the right', () => {
    const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    // Not from a proxy: the header is whatever the client wrote.
    expect(proxies.clientAddress('198.51.100.9', '203.0.113.5')).toBe('198.51.100.9');
    // From a proxy: the address it saw.
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.5')).toBe('203.0.113.5');
    expect(proxies.clientAddress('::ffff:127.0.0.1', '203.0.113.5')).toBe('203.0.113.5');
    // A client's own X-Forwarded-For comes first: the proxies' entries on the right win.
    expect(proxies.clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.5, 10.1.1.1')).toBe('203.0.113.5');
    expect(proxies.clientAddress('127.0.0.1', ['1.2.3.4', '203.0.113.5'])).toBe('203.0.113.5');
    expect(proxies.clientAddress('fd00::1', '2001:db8::7')).toBe('2001:db8::7');
    // Unreadable there: the last trusted hop counts as the client.
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.5, garbage')).toBe('127.0.0.1');
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.5, garbage, 10.0.0.2')).toBe('10.0.0.2');
    expect(proxies.clientAddress('127.0.0.1', undefined)).toBe('127.0.0.1');
    // No proxies configured: never believed.
    expect(new TrustedProxies([]).clientAddress('127.0.0.1', '203.0.113.5')).toBe('127.0.0.1');
  });

  it('reads trusted proxies from the configuration (TOML list or comma-separated environment)', () => {
    const fromEnv = loadConfig({ env: { PULSE_SERVER_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8' } });
    expect(fromEnv.server.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(loadConfig({ env: {} }).server.trustedProxies).toEqual([]);
    for (const bad of ['10.0.0.0/33', 'example.com', '1.2.3.4/x', 'fd00::/129']) {
      expect(() => loadConfig({ env: { PULSE_SERVER_TRUSTED_PROXIES: bad } })).toThrow(ConfigError);
    }
  });
});
