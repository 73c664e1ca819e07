import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PulseError } from '../src/errors.ts';
import { parseServerInfo } from '../src/server-info.ts';

describe('parseServerInfo', () => {
  const hash = Buffer.alloc(32, 7).toString('base64');
  const info = {
    protocolVersions: [1],
    websocket: { url: 'ws://127.0.0.1:8080/pulse/ws' },
    webtransport: {
      url: 'https://127.0.0.1:8443/pulse/wt',
      serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }],
    },
  };

  it('reads what the server publishes', () => {
    const parsed = parseServerInfo(info, 'http://127.0.0.1:8080');
    expect(parsed.versions).toEqual([1]);
    expect(parsed.webSocket?.url).toBe('ws://127.0.0.1:8080/pulse/ws');
    expect(parsed.webTransport?.url).toBe('https://127.0.0.1:8443/pulse/wt');
    expect(parsed.webTransport?.certificateHashes).toEqual([new Uint8Array(32).fill(7)]);
  });

  it('drops bad hashes, accepts a missing transport, refuses what is not a Pulse server', () => {
    const badHash = {
      ...info,
      webtransport: { ...info.webtransport, serverCertificateHashes: [{ algorithm: 'md5', value: hash }] },
    };
    expect(parseServerInfo(badHash, 'http://x').webTransport?.certificateHashes).toEqual([]);
    expect(parseServerInfo({ ...info, webtransport: null }, 'http://x').webTransport).toBeUndefined();
    for (const bad of [null, [], 'x', {}, { protocolVersions: [] }, { protocolVersions: [1] }]) {
      expect(() => parseServerInfo(bad, 'http://x')).toThrow(PulseError);
    }
  });

  it('never throws anything but a PulseError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseServerInfo(value, 'http://127.0.0.1:8080');
        } catch (error) {
          expect(PulseError.is(error, 'BAD_SERVER_INFO')).toBe(true);
        }
      }),
    );
  });
});
