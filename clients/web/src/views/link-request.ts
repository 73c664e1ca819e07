import type { PulseClient } from '@pulse/sdk';
import QRCode from 'qrcode';
import { describeError } from '../describe-error.ts';
import { h, replaceChildren } from '../dom.ts';

/**
 * "Link this browser to an existing account" (README "Linking"): asks to join
 * `account`, shows the link code as text and as a QR code (it holds the code
 * alone), and waits until a device of the account approves it with that code.
 * Resolves once this browser is a device of the account and connected; rejects
 * when the request fails (the caller shows the sign-in card again).
 */
export async function showLinkRequest(client: PulseClient, card: HTMLElement, account: string): Promise<void> {
  const code = h('div', { class: 'numbers link-code', testid: 'link-code' });
  const qr = h('canvas', {
    class: 'link-qr',
    testid: 'link-qr',
    attrs: { 'aria-label': 'the link code as a QR code' },
  });
  const state = h('p', { testid: 'link-state' }, 'Asking the server…');
  replaceChildren(
    card,
    h('h1', {}, 'Link this browser'),
    h(
      'p',
      {},
      `On a device already signed in as ${account}, open "Devices" and approve this browser with the code below (type it, or scan it).`,
    ),
    code,
    qr,
    state,
  );
  try {
    await client.requestLink(account, (shown) => {
      code.textContent = shown;
      state.textContent = `Waiting for a device of ${account} to approve…`;
      void QRCode.toCanvas(qr, shown, { errorCorrectionLevel: 'M', margin: 2, width: 192 }).catch(() => {
        qr.remove(); // the code as text is enough
      });
    });
  } catch (error) {
    throw new Error(`Linking failed: ${describeError(error)}`);
  }
}
