import { describe, expect, it } from 'vitest';
import { DeviceSubjects } from '../../src/edge/cluster/device-subjects.ts';
import { subjectKey } from '../../src/edge/cluster/subject-key.ts';

/**
 * `[cluster] subject_key`: with a shared secret, the hashed subject names depend on
 * it, so a NATS operator without the secret cannot confirm a guessed account by
 * recomputing its subject; every node with the same secret still finds the same one.
 */
describe('cluster subject key', () => {
  const bob = { account: 'bob', deviceId: 1 };
  const subjectWith = (secret: string) =>
    new DeviceSubjects('pulse', subjectKey(secret, 'pulse device subjects')).of(bob);

  it('keys the device subjects with the configured secret', () => {
    expect(subjectWith('secret A')).toBe(subjectWith('secret A'));
    expect(subjectWith('secret A')).not.toBe(subjectWith('secret B'));
    expect(subjectWith('secret A')).not.toBe(subjectWith(''));
    expect(subjectWith('secret A')).not.toContain('bob');
  });

  it('derives one key per family of subjects', () => {
    expect(subjectKey('s', 'pulse device subjects')).not.toEqual(subjectKey('s', 'pulse channel subjects'));
    expect(subjectKey('', 'pulse device subjects')).toEqual(new TextEncoder().encode('pulse device subjects'));
  });
});
