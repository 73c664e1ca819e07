import type { PulseClient } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { h } from '../dom.ts';
import type { Dialog } from './dialog.ts';

/**
 * The safety-number screen for `account` (README "Trust"): one number per
 * device of theirs, to compare in person or over a trusted call, and "mark
 * verified" once they match. `warn` shows a failure, or clears the page's
 * warning (a changed key) once the user verified.
 */
export async function showSafetyNumber(
  dialog: Dialog,
  client: PulseClient,
  account: string,
  warn: (text: string | undefined) => void,
): Promise<void> {
  try {
    const safety = await client.safetyNumber(account);
    const body: Node[] = [
      h(
        'p',
        {},
        `Compare these numbers with ${account}, in person or over a call you trust. If they match, nobody is in between.`,
      ),
      ...safety.numbers.map((n) =>
        h(
          'div',
          { class: 'numbers', testid: 'safety-number' },
          safety.numbers.length > 1 ? `device ${n.deviceId}: ${n.number}` : n.number,
        ),
      ),
      h(
        'p',
        { testid: 'safety-state' },
        safety.changedDevices.length > 0
          ? `⚠ ${account}'s key changed.`
          : safety.verified
            ? '✓ Verified'
            : 'Not verified yet',
      ),
    ];
    const verify = h(
      'button',
      {
        testid: 'mark-verified',
        on: {
          click: async () => {
            await client.markVerified(account);
            warn(undefined);
            await showSafetyNumber(dialog, client, account, warn);
          },
        },
      },
      'They match: mark verified',
    );
    dialog.show(`Safety number with ${account}`, body, safety.verified ? [] : [verify]);
  } catch (error) {
    warn(describeError(error));
  }
}
