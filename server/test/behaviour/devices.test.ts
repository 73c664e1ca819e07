import { generateIdentityKeyPair } from '@pulse/crypto';
import { deviceLinkSignedMessage, type Frame } from '@pulse/proto';
import { InProcessServer, linkDevice, register } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/assertions.ts';

describe('devices', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start({ limits: { maxDevices: 3 } });
  });
  afterAll(() => server.stop());

  it('links a second device, lists and removes it', async () => {
    const first = await register(server.dial());
    const second = await linkDevice(server.dial(), first);
    expect(second.deviceId).toBe(2);
    const list = await first.client.expect({ type: 'device_list', id: 0 }, 'devices');
    expect(list.devices.map((d) => d.deviceId)).toEqual([1, 2]);
    await first.client.expect({ type: 'device_remove', id: 0, deviceId: 2 }, 'ok');
    await expectClose(second.client, 'AUTH_FAILED');
    const after = await first.client.expect({ type: 'device_list', id: 0 }, 'devices');
    expect(after.devices.map((d) => d.deviceId)).toEqual([1]);
    const last = await first.client.request({ type: 'device_remove', id: 0, deviceId: 1 });
    expect(last).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    const gone = await first.client.request({ type: 'device_remove', id: 0, deviceId: 2 });
    expect(gone).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('refuses a link whose signature is not by the new key, and a replayed link', async () => {
    const first = await register(server.dial());
    const newKey = generateIdentityKeyPair();
    const bad = await first.client.request({
      type: 'device_link',
      id: 0,
      deviceName: 'x',
      identityKey: newKey.publicKey,
      signature: first.identity.sign(deviceLinkSignedMessage(first.client.challenge, first.account, newKey.publicKey)),
    });
    expect(bad).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const link: Frame = {
      type: 'device_link',
      id: 0,
      deviceName: 'x',
      identityKey: newKey.publicKey,
      signature: newKey.sign(deviceLinkSignedMessage(first.client.challenge, first.account, newKey.publicKey)),
    };
    await first.client.expect(link, 'device_linked');
    expect(await first.client.request(link)).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  });

  it('refuses a link beyond max_devices (FORBIDDEN), and ids are never reused', async () => {
    const first = await register(server.dial());
    const second = await linkDevice(server.dial(), first);
    await linkDevice(server.dial(), first);
    const key = generateIdentityKeyPair();
    const over = await first.client.request({
      type: 'device_link',
      id: 0,
      deviceName: 'fourth',
      identityKey: key.publicKey,
      signature: key.sign(deviceLinkSignedMessage(first.client.challenge, first.account, key.publicKey)),
    });
    expect(over).toMatchObject({ type: 'error', code: 'FORBIDDEN', message: 'an account has at most 3 devices' });
    await first.client.expect({ type: 'device_remove', id: 0, deviceId: second.deviceId }, 'ok');
    const fourth = await linkDevice(server.dial(), first);
    expect(fourth.deviceId).toBe(4);
  });
});
