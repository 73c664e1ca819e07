import { type PulseClient, PulseError } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { h, replaceChildren } from '../dom.ts';

/**
 * The registration card, shown in `root` while the profile has no account.
 * Resolves once the server accepted a name; a taken name can be replaced at once.
 */
export function signIn(client: PulseClient, root: HTMLElement): Promise<void> {
  return new Promise((resolve) => {
    const input = h('input', {
      testid: 'register-name',
      attrs: { type: 'text', placeholder: 'your name, e.g. alice', autocomplete: 'off' },
    });
    const error = h('div', { class: 'error', testid: 'register-error' });
    const button = h('button', { testid: 'register', attrs: { type: 'submit' } }, 'Register');
    const form = h(
      'form',
      {
        on: {
          submit: async (event) => {
            event.preventDefault();
            button.disabled = true;
            error.textContent = '';
            try {
              await client.register(input.value.trim().toLowerCase());
              resolve();
            } catch (e) {
              error.textContent = PulseError.is(e, 'ACCOUNT_EXISTS')
                ? 'That name is taken: try another.'
                : describeError(e);
              button.disabled = false;
            }
          },
        },
      },
      input,
      button,
    );
    replaceChildren(
      root,
      h(
        'div',
        { class: 'welcome' },
        h(
          'div',
          { class: 'card' },
          h('h1', {}, 'Pulse'),
          h('p', {}, 'Pick a name. Your keys are made on this device and never leave it unencrypted.'),
          form,
          error,
        ),
      ),
    );
    input.focus();
  });
}
