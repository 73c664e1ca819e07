import { describe, expect, it } from 'vitest';
import type { DeviceNotice } from '../../src/core/ports/device-bus.ts';
import { DeviceSubjects } from '../../src/edge/cluster/device-subjects.ts';
import { decodeNotice, encodeNotice, MAX_NOTICE_BYTES } from '../../src/edge/cluster/notice-codec.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('device notices between nodes', () => {
  it('round-trip', () => {
    const notices: DeviceNotice[] = [
      { type: 'wake' },
      { type: 'removed' },
      { type: 'claim', node: 'ab12', since: 1_700_000_000_000 },
      { type: 'frame', bytes: new Uint8Array([0, 1, 254, 255]) },
      { type: 'ephemeral', bytes: new Uint8Array([9]) },
    ];
    for (const notice of notices) expect(decodeNotice(encodeNotice(notice) ?? new Uint8Array())).toEqual(notice);
  });

  it('a frame too large for MAX_NOTICE_BYTES is not encoded', () => {
    expect(encodeNotice({ type: 'frame', bytes: new Uint8Array(MAX_NOTICE_BYTES) })).toBeUndefined();
  });

  it('anything else is dropped: not JSON, unknown type, wrong fields, beyond MAX_NOTICE_BYTES', () => {
    const refused = [
      'not json',
      'null',
      '{"type":"shutdown"}',
      '{"type":"claim","node":7,"since":1}',
      '{"type":"claim","node":"a","since":1.5}',
      '{"type":"frame","bytes":"not base64!"}',
      '{"type":"frame"}',
      `{"type":"claim","node":"${'x'.repeat(65)}","since":1}`,
      `{"type":"wake","pad":"${'x'.repeat(MAX_NOTICE_BYTES)}"}`,
    ];
    for (const text of refused) expect(decodeNotice(bytes(text)), text).toBeUndefined();
  });
});

describe('device subjects', () => {
  it('name no account or device, differ per device and per key, and are valid NATS tokens', () => {
    const key = bytes('k1');
    const subjects = new DeviceSubjects('pulse', key);
    const subject = subjects.of({ account: 'alice.smith', deviceId: 2 });
    expect(subject).toMatch(/^pulse\.device\.[A-Za-z0-9_-]{22}$/);
    expect(subject).not.toContain('alice');
    expect(subjects.of({ account: 'alice.smith', deviceId: 3 })).not.toBe(subject);
    expect(new DeviceSubjects('pulse', bytes('k2')).of({ account: 'alice.smith', deviceId: 2 })).not.toBe(subject);
    expect(() => new DeviceSubjects('a.b', key)).toThrow(/prefix/);
  });
});
