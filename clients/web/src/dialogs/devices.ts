import type { DeviceInfo, LinkRequest, PulseClient } from '@pulse/sdk';
import { describeError } from '../describe-error.ts';
import { formatWhen } from '../device-notices.ts';
import { h } from '../dom.ts';
import type { Dialog } from './dialog.ts';

/**
 * "Devices" (README "Linking"): this account's signed device list (name, added
 * when), the devices asking to join with a field for the code the new device
 * shows and "Approve", and "Remove" for every device but this one. Approving
 * checks the typed code against the request (a request whose code differs is
 * refused by the SDK), then signs the new device in.
 */
export async function showDevices(dialog: Dialog, client: PulseClient): Promise<void> {
  const error = h('div', { class: 'error', testid: 'devices-error' });
  let devices: DeviceInfo[] = [];
  let pending: LinkRequest[] = [];
  try {
    [devices, pending] = await Promise.all([client.devices(), client.pendingLinks()]);
  } catch (e) {
    error.textContent = describeError(e);
  }
  const again = () => void showDevices(dialog, client);
  const run = (action: () => Promise<unknown>) => async () => {
    error.textContent = '';
    try {
      await action();
      again();
    } catch (e) {
      error.textContent = describeError(e);
    }
  };

  const list = h(
    'ul',
    { class: 'devices', testid: 'device-list' },
    ...devices.map((device) =>
      h(
        'li',
        { testid: `device-${device.deviceId}` },
        h('span', {}, `${device.name} (device ${device.deviceId}${device.current ? ', this browser' : ''})`),
        h('span', { class: 'meta' }, `added ${formatWhen(device.createdAt)}`),
        !device.current &&
          h(
            'button',
            {
              class: 'secondary',
              testid: `remove-device-${device.deviceId}`,
              on: { click: run(() => client.removeDevice(device.deviceId)) },
            },
            'Remove',
          ),
      ),
    ),
  );

  const code = h('input', {
    testid: 'approve-code',
    attrs: { type: 'text', placeholder: 'the code the new device shows', autocomplete: 'off', spellcheck: 'false' },
  });
  const approve = h(
    'button',
    { testid: 'approve-link', on: { click: run(() => client.approveLink(code.value.trim())) } },
    'Approve',
  );
  const requests =
    pending.length === 0
      ? [h('p', { class: 'meta', testid: 'no-pending-links' }, 'No device is asking to join.')]
      : [
          h(
            'ul',
            { class: 'devices', testid: 'pending-links' },
            ...pending.map((request) =>
              h(
                'li',
                { testid: 'pending-link' },
                h('span', {}, `${request.deviceName} asks to join as device ${request.deviceId}`),
                h('span', { class: 'meta' }, formatWhen(request.requestedAt)),
              ),
            ),
          ),
          h('label', {}, 'Compare with the code the new device shows, and type it here'),
          code,
        ];

  dialog.show(
    'Devices',
    [list, h('h4', {}, 'Asking to join'), ...requests, error],
    pending.length === 0 ? [h('button', { class: 'secondary', on: { click: again } }, 'Refresh')] : [approve],
  );
  // A new request while the dialog is open shows up at once.
  const stop = client.on('link_request', () => {
    stop();
    if (dialog.element.open) again();
  });
}
