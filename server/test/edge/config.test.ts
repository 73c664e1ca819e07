import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/core/limits/limits.ts';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../src/edge/config/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'pulse-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const keyOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.key;
    throw error;
  }
  return undefined;
};

describe('configuration layers', () => {
  it('uses the embedded defaults with nothing configured', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.limits.envelopeTtl).toBe(30 * 24 * 3600 * 1000);
  });

  it('applies defaults < TOML < environment', () => {
    const path = file(
      'a.toml',
      `[server]\nport = 9000\nhost = "0.0.0.0"\n[limits]\nmax_channels = 7\nqueue_per_device = 50\n[transport]\nwebtransport = false\n`,
    );
    const config = loadConfig({
      file: path,
      env: { PULSE_LIMITS_MAX_CHANNELS: '9', PULSE_HEARTBEAT_INTERVAL: '1000' },
    });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 9000 });
    expect(config.limits.maxChannels).toBe(9);
    expect(config.limits.queuePerDevice).toBe(50);
    expect(config.transport.webtransport).toBe(false);
    expect(config.heartbeat.interval).toBe(1000);
  });

  it('reads the file named by PULSE_CONFIG', () => {
    const path = file('b.toml', '[storage]\npath = "/tmp/pulse-elsewhere"\n');
    expect(loadConfig({ env: { PULSE_CONFIG: path } }).storage.path).toBe('/tmp/pulse-elsewhere');
  });

  it('ignores PULSE_ variables of other sections (other tools)', () => {
    expect(() => loadConfig({ env: { PULSE_URL: 'x', PULSE_CONFIG: '' } })).not.toThrow();
  });

  it('stops on an unknown key or section and names it', () => {
    expect(keyOf(() => loadConfig({ file: file('c.toml', '[limits]\nmax_chanels = 3\n'), env: {} }))).toBe(
      'limits.max_chanels',
    );
    expect(keyOf(() => loadConfig({ file: file('d.toml', '[nope]\nx = 1\n'), env: {} }))).toBe('nope');
    expect(keyOf(() => loadConfig({ env: { PULSE_LIMITS_BOGUS: '1' } }))).toBe('PULSE_LIMITS_BOGUS → limits.bogus');
  });

  it('stops on a wrong value and names the key', () => {
    expect(keyOf(() => loadConfig({ file: file('e.toml', '[server]\nport = "80"\n'), env: {} }))).toBe('server.port');
    expect(keyOf(() => loadConfig({ file: file('f.toml', '[server]\nport = 70000\n'), env: {} }))).toBe('server.port');
    expect(keyOf(() => loadConfig({ env: { PULSE_LIMITS_RATE: '-1' } }))).toContain('limits.rate');
    expect(keyOf(() => loadConfig({ env: { PULSE_TRANSPORT_WEBSOCKET: 'maybe' } }))).toContain('transport.websocket');
    expect(keyOf(() => loadConfig({ env: { PULSE_LIMITS_MAX_CHANNELS: '0' } }))).toContain('limits.max_channels');
    expect(keyOf(() => loadConfig({ env: { PULSE_LOG_LEVEL: 'loud' } }))).toContain('log.level');
    expect(keyOf(() => loadConfig({ file: file('g.toml', 'not toml ['), env: {} }))).toContain('g.toml');
    expect(keyOf(() => loadConfig({ file: join(dir, 'missing.toml'), env: {} }))).toContain('missing.toml');
  });

  it('reads the edge bounds: QUIC admission, unauthenticated and partial-frame caps, proxies, metrics, token keys', () => {
    const path = file(
      'h.toml',
      [
        '[server]',
        'trusted_proxies = ["10.0.0.0/8", "::1"]',
        'max_unauthenticated = 50',
        'max_unauthenticated_per_ip = 5',
        'partial_frame_bytes = 1048576',
        '[quic]',
        'max_connections = 100',
        'max_handshakes = 20',
        'max_handshakes_per_source = 2',
        'handshake_timeout = 2000',
        'retry_above = 0',
        '[metrics]',
        'host = "0.0.0.0"',
        'port = 9100',
        'token = "t0k3n"',
        '[auth]',
        'token_keys = "/etc/pulse/token-keys"',
      ].join('\n'),
    );
    const config = loadConfig({ file: path, env: {} });
    expect(config.server).toMatchObject({
      trustedProxies: ['10.0.0.0/8', '::1'],
      maxUnauthenticated: 50,
      maxUnauthenticatedPerIp: 5,
      partialFrameBytes: 1048576,
    });
    expect(config.quic).toEqual({
      maxConnections: 100,
      maxHandshakes: 20,
      maxHandshakesPerSource: 2,
      handshakeTimeout: 2000,
      retryAbove: 0,
    });
    expect(config.metrics).toEqual({ host: '0.0.0.0', port: 9100, token: 't0k3n' });
    expect(config.auth.tokenKeys).toBe('/etc/pulse/token-keys');
    // Safe defaults: metrics on loopback, Retry above 100 handshakes in progress.
    expect(DEFAULT_CONFIG.metrics.host).toBe('127.0.0.1');
    expect(DEFAULT_CONFIG.quic.retryAbove).toBe(100);
    expect(keyOf(() => loadConfig({ env: { PULSE_QUIC_MAX_HANDSHAKES: '0' } }))).toContain('quic.max_handshakes');
    expect(keyOf(() => loadConfig({ file: file('i.toml', '[server]\ntrusted_proxies = "10.0.0.1"\n'), env: {} }))).toBe(
      'server.trusted_proxies',
    );
  });

  it('turns cluster mode on with [cluster] nats (one URL or a list) or PULSE_CLUSTER_NATS', () => {
    expect(loadConfig({ env: {} }).cluster).toEqual({ nats: [], replicas: 1, subjectKey: '' });
    const one = file('cluster-1.toml', '[cluster]\nnats = "nats://10.0.0.5:4222"\n');
    expect(loadConfig({ file: one, env: {} }).cluster.nats).toEqual(['nats://10.0.0.5:4222']);
    const three = file(
      'cluster-3.toml',
      '[cluster]\nnats = ["nats://a:4222", "nats://b:4222", "tls://c:4222"]\nreplicas = 3\n',
    );
    expect(loadConfig({ file: three, env: {} }).cluster).toEqual({
      nats: ['nats://a:4222', 'nats://b:4222', 'tls://c:4222'],
      replicas: 3,
      subjectKey: '',
    });
    const env = {
      PULSE_CLUSTER_NATS: 'nats://127.0.0.1:4222, nats://127.0.0.1:4223',
      PULSE_CLUSTER_REPLICAS: '3',
      PULSE_CLUSTER_SUBJECT_KEY: 'shared secret',
    };
    expect(loadConfig({ file: one, env }).cluster).toEqual({
      nats: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      replicas: 3,
      subjectKey: 'shared secret',
    });
    for (const bad of ['"http://a:4222"', '"not a url"', '[4222]']) {
      const path = file('cluster-bad.toml', `[cluster]\nnats = ${bad}\n`);
      expect(keyOf(() => loadConfig({ file: path, env: {} }))).toBe('cluster.nats');
    }
    expect(keyOf(() => loadConfig({ env: { PULSE_CLUSTER_REPLICAS: '7' } }))).toBe('cluster.replicas');
  });

  it('checks values against each other', () => {
    expect(keyOf(() => loadConfig({ env: { PULSE_HEARTBEAT_TIMEOUT: '100', PULSE_HEARTBEAT_INTERVAL: '200' } }))).toBe(
      'heartbeat.timeout',
    );
    expect(keyOf(() => loadConfig({ env: { PULSE_LIMITS_MAX_MESSAGE_SIZE: '2000000' } }))).toBe(
      'limits.max_message_size',
    );
  });
});
