import { PulseError } from '../errors.ts';
import type { Address } from '../store.ts';

/**
 * `send` addresses exactly every device of one account, except the sending
 * device when it writes to its own account (PROTOCOL.md "Envelopes"), so no
 * device of the recipient silently misses a message. `deviceIds` are the
 * account's devices as read, ascending; none means no such account.
 */
export function checkAddressing(
  from: Address,
  to: string,
  deviceIds: readonly number[],
  envelopes: readonly { readonly deviceId: number }[],
): void {
  const expected = deviceIds.filter((id) => !(to === from.account && id === from.deviceId));
  if (expected.length === 0) throw new PulseError('NOT_FOUND', `no account ${to} (or no other device)`);
  const given = envelopes.map((e) => e.deviceId).sort((a, b) => a - b);
  if (given.length !== expected.length || given.some((id, i) => id !== expected[i])) {
    throw new PulseError(
      'DEVICES_MISMATCH',
      `envelopes must address exactly the devices [${expected.join(', ')}] of ${to}`,
    );
  }
}
