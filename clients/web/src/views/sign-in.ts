import { type PulseClient, PulseError } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { h, replaceChildren } from '../dom.ts';
import { showLinkRequest } from './link-request.ts';

/**
 * The sign-in card, shown in `root` while the profile has no account: register
 * a new name, or link this browser to an existing account (approved from one of
 * its devices, views/link-request.ts). Resolves once this profile has an
 * account; a taken name or a failed link can be retried at once.
 */
export function signIn(client: PulseClient, root: HTMLElement): Promise<void> {
  return new Promise((resolve) => {
    const card = h('div', { class: 'card' });
    const error = h('div', { class: 'error', testid: 'register-error' });
    const clear = () => {
      error.textContent = '';
    };

    const register = nameForm(
      'register',
      'your name, e.g. alice',
      'Register',
      async (name) => {
        try {
          await client.register(name);
          resolve();
        } catch (e) {
          error.textContent = PulseError.is(e, 'ACCOUNT_EXISTS')
            ? 'That name is taken: try another.'
            : describeError(e);
        }
      },
      clear,
    );
    const link = nameForm(
      'link',
      'the account, e.g. alice',
      'Link',
      async (name) => {
        try {
          await showLinkRequest(client, card, name);
          resolve();
        } catch (e) {
          showForms();
          error.textContent = e instanceof Error ? e.message : String(e);
        }
      },
      clear,
    );

    function showForms(): void {
      replaceChildren(
        card,
        h('h1', {}, 'Pulse'),
        h('p', {}, 'Pick a name. Your keys are made on this device and never leave it unencrypted.'),
        register.form,
        h('p', {}, 'Link this browser to an existing account:'),
        link.form,
        error,
      );
    }
    showForms();
    replaceChildren(root, h('div', { class: 'welcome' }, card));
    register.input.focus();
  });
}

/** A name field and its button (test ids `<id>-name` and `<id>`); `submit` gets the name, lower-cased, after `clearError`. */
function nameForm(
  id: string,
  placeholder: string,
  label: string,
  submit: (name: string) => Promise<void>,
  clearError: () => void,
): { form: HTMLFormElement; input: HTMLInputElement } {
  const input = h('input', { testid: `${id}-name`, attrs: { type: 'text', placeholder, autocomplete: 'off' } });
  const button = h('button', { testid: id, attrs: { type: 'submit' } }, label);
  const form = h(
    'form',
    {
      on: {
        submit: async (event) => {
          event.preventDefault();
          const name = input.value.trim().toLowerCase();
          if (name === '') return;
          button.disabled = true;
          clearError();
          await submit(name);
          button.disabled = false;
        },
      },
    },
    input,
    button,
  );
  return { form, input };
}
