import type { GroupRecord, PulseClient } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { h } from '../dom.ts';
import type { Dialog } from './dialog.ts';

/** "New group": a name and members (comma or space separated); `created` gets the new group. */
export function showNewGroup(dialog: Dialog, client: PulseClient, created: (group: GroupRecord) => void): void {
  const name = h('input', { testid: 'group-name', attrs: { type: 'text', placeholder: 'team' } });
  const members = h('input', { testid: 'group-members', attrs: { type: 'text', placeholder: 'bob, carol' } });
  const error = h('div', { class: 'error' });
  const create = h(
    'button',
    {
      testid: 'create-group',
      on: {
        click: async () => {
          create.disabled = true;
          try {
            const list = members.value
              .split(/[\s,]+/)
              .map((m) => m.trim().toLowerCase())
              .filter((m) => m !== '');
            const group = await client.createGroup(name.value.trim() || 'group', list);
            dialog.close();
            created(group);
          } catch (e) {
            error.textContent = describeError(e);
            create.disabled = false;
          }
        },
      },
    },
    'Create',
  );
  dialog.show('New group', [h('label', {}, 'Name'), name, h('label', {}, 'Members'), members, error], [create]);
  name.focus();
}

/** Adds or removes one member of `groupId`; `changed` runs once the change went out. */
export function showMemberChange(
  dialog: Dialog,
  client: PulseClient,
  groupId: string,
  action: 'add' | 'remove',
  changed: () => void,
): void {
  const input = h('input', { testid: 'member-name', attrs: { type: 'text', placeholder: 'name' } });
  const error = h('div', { class: 'error' });
  const confirm = h(
    'button',
    {
      testid: 'confirm-member',
      on: {
        click: async () => {
          try {
            const account = input.value.trim().toLowerCase();
            if (action === 'add') await client.addMember(groupId, account);
            else await client.removeMember(groupId, account);
            dialog.close();
            changed();
          } catch (e) {
            error.textContent = describeError(e);
          }
        },
      },
    },
    action === 'add' ? 'Add' : 'Remove',
  );
  dialog.show(action === 'add' ? 'Add a member' : 'Remove a member', [input, error], [confirm]);
  input.focus();
}
