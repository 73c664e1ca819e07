import { describe, expect, it } from 'vitest';
import { authorizeChannel } from '../../../src/core/channels/acl.ts';
import { PulseError } from '../../../src/core/errors.ts';

describe('channel rules', () => {
  const allowed = (channel: string, account: string, action: 'subscribe' | 'publish') => {
    try {
      authorizeChannel(channel, account, action);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(PulseError);
      expect((error as PulseError).code).toBe('FORBIDDEN');
      return false;
    }
  };
  it('public: everyone; user: owner publishes; private: owner only; others refused', () => {
    expect(allowed('public:lobby', 'bob', 'publish')).toBe(true);
    expect(allowed('public:lobby/sub', 'bob', 'subscribe')).toBe(true);
    expect(allowed('user:alice', 'bob', 'subscribe')).toBe(true);
    expect(allowed('user:alice/status', 'bob', 'publish')).toBe(false);
    expect(allowed('user:alice/status', 'alice', 'publish')).toBe(true);
    expect(allowed('private:alice/sync', 'alice', 'subscribe')).toBe(true);
    expect(allowed('private:alice/sync', 'bob', 'subscribe')).toBe(false);
    expect(allowed('private:alice/sync', 'bob', 'publish')).toBe(false);
    expect(allowed('user:', 'bob', 'subscribe')).toBe(false);
    expect(allowed('lobby', 'bob', 'subscribe')).toBe(false);
    expect(allowed('admin:x', 'bob', 'subscribe')).toBe(false);
    expect(allowed('user:alicex', 'alice', 'publish')).toBe(false);
  });
});
