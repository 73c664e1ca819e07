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
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9000 });
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

  it('checks values against each other', () => {
    expect(keyOf(() => loadConfig({ env: { PULSE_HEARTBEAT_TIMEOUT: '100', PULSE_HEARTBEAT_INTERVAL: '200' } }))).toBe(
      'heartbeat.timeout',
    );
    expect(keyOf(() => loadConfig({ env: { PULSE_LIMITS_MAX_MESSAGE_SIZE: '2000000' } }))).toBe(
      'limits.max_message_size',
    );
  });
});
