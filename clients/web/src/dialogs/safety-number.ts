import type { PulseClient } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { h } from '../dom.ts';
import type { Dialog } from './dialog.ts';

/**
 * The safety-number screen for `account` (README "Trust"): one number per
 * contact, over the two accounts' identity keys (their devices do not change
 * it), to compare in person or over a call you trust. When the contact's
 * identity changed, sending to them is stopped until the user compares the new
 * number and accepts it here (markVerified). `warn` shows a failure, or clears
 * the page's warning once the user accepted.
 */
export async function showSafetyNumber(
  dialog: Dialog,
  client: PulseClient,
  account: string,
  warn: (text: string | undefined) => void,
): Promise<void> {
  try {
    const safety = await client.safetyNumber(account);
    const state = safety.identityChanged
      ? `⚠ ${account}'s safety number changed: they registered again, or someone is in between. Sending to them is stopped until you accept.`
      : safety.verified
        ? '✓ Verified'
        : 'Not verified yet';
    const body: Node[] = [
      h(
        'p',
        {},
        `Compare this number with ${account}, in person or over a call you trust. If it matches, nobody is in between.`,
      ),
      h('div', { class: 'numbers', testid: 'safety-number' }, safety.number),
      h('p', { class: safety.identityChanged ? 'warning' : '', testid: 'safety-state' }, state),
    ];
    const accept = h(
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
      safety.identityChanged ? 'It matches: accept the new number' : 'It matches: mark verified',
    );
    dialog.show(`Safety number with ${account}`, body, safety.verified && !safety.identityChanged ? [] : [accept]);
  } catch (error) {
    warn(describeError(error));
  }
}
