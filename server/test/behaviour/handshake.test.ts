import { generateIdentityKeyPair } from '@pulse/crypto';
import { authSignedMessage, deviceListSignedMessage, registerSignedMessage } from '@pulse/proto';
import { FrameClient, InProcessServer, reconnect, register, uniqueAccount } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The account key and first signed device list a `register` carries (PROTOCOL.md "Devices"). */
function firstList(account: string, identityKey: Uint8Array, name: string) {
  const accountIdentity = generateIdentityKeyPair();
  const devices = [{ deviceId: 1, identityKey, name, addedAt: 1 }];
  const signature = accountIdentity.sign(deviceListSignedMessage({ account, version: 1, devices }));
  return { accountKey: accountIdentity.publicKey, deviceList: { version: 1, devices, signature } };
}

/**
 * Handshake and authentication (PROTOCOL.md), in-process over in-memory
 * connections; hello itself is in the conformance suite (every way in).
 */
describe('handshake and authentication', () => {
  let server: InProcessServer;
  beforeAll(() => {
    server = InProcessServer.start();
  });
  afterAll(() => server.stop());

  it('refuses requests before authentication with AUTH_REQUIRED and keeps the connection', async () => {
    const client = await FrameClient.connect(server.dial());
    const answer = await client.request({ type: 'sync', id: 0 });
    expect(answer).toMatchObject({ type: 'error', code: 'AUTH_REQUIRED' });
    const pong = await client.exchange({ type: 'ping', nonce: 5 }, 'pong');
    expect(pong.nonce).toBe(5);
    client.close();
  });

  it('refuses everything but hello, ping and close before hello', async () => {
    const client = await FrameClient.open(server.dial());
    const early = await client.request({ type: 'sync', id: 0 });
    expect(early).toMatchObject({ type: 'error', code: 'AUTH_REQUIRED', message: 'send hello first' });
    expect((await client.exchange({ type: 'ping', nonce: 6 }, 'pong')).nonce).toBe(6);
    await client.exchange({ type: 'hello', versions: [2], client: 'late' }, 'welcome');
    const again = await client.request({ type: 'sync', id: 0 });
    expect(again).toMatchObject({
      type: 'error',
      code: 'AUTH_REQUIRED',
      message: 'sync needs an authenticated connection',
    });
    client.close();
  });

  it('registers, then authenticates a new connection by signature', async () => {
    const device = await register(server.dial());
    expect(device.deviceId).toBe(1);
    await reconnect(server.dial(), device);
    const devices = await device.client.expect({ type: 'device_list', id: 0 }, 'devices');
    expect(devices.deviceList.devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it('refuses a taken account name with ACCOUNT_EXISTS', async () => {
    const device = await register(server.dial());
    const identity = generateIdentityKeyPair();
    const client = await FrameClient.connect(server.dial());
    const answer = await client.request({
      type: 'register',
      id: 0,
      account: device.account,
      deviceName: 'x',
      identityKey: identity.publicKey,
      signature: identity.sign(registerSignedMessage(client.challenge, device.account, identity.publicKey)),
      ...firstList(device.account, identity.publicKey, 'x'),
    });
    expect(answer).toMatchObject({ type: 'error', code: 'ACCOUNT_EXISTS' });
  });

  it('refuses a replayed auth signature (another connection, another challenge)', async () => {
    const device = await register(server.dial());
    const first = await FrameClient.connect(server.dial());
    const signature = device.identity.sign(authSignedMessage(first.challenge, device.account, 1));
    await first.expect({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature }, 'auth_ok');
    const second = await FrameClient.connect(server.dial());
    const replay = await second.request({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature });
    expect(replay).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('refuses foreign signatures, signatures for another device, and register signatures used for auth', async () => {
    const device = await register(server.dial());
    const mallory = generateIdentityKeyPair();
    const client = await FrameClient.connect(server.dial());
    const forged = await client.request({
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: 1,
      signature: mallory.sign(authSignedMessage(client.challenge, device.account, 1)),
    });
    expect(forged).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const otherDevice = await client.request({
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: 1,
      signature: device.identity.sign(authSignedMessage(client.challenge, device.account, 2)),
    });
    expect(otherDevice).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const wrongContext = await client.request({
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: 1,
      signature: device.identity.sign(
        registerSignedMessage(client.challenge, device.account, device.identity.publicKey),
      ),
    });
    expect(wrongContext).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const unknown = await client.request({
      type: 'auth',
      id: 0,
      account: 'nobody-here',
      deviceId: 1,
      signature: device.identity.sign(authSignedMessage(client.challenge, 'nobody-here', 1)),
    });
    expect(unknown).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('refuses a register whose signature is not by the registered key', async () => {
    const client = await FrameClient.connect(server.dial());
    const key = generateIdentityKeyPair();
    const other = generateIdentityKeyPair();
    const account = uniqueAccount();
    const answer = await client.request({
      type: 'register',
      id: 0,
      account,
      deviceName: 'x',
      identityKey: key.publicKey,
      signature: other.sign(registerSignedMessage(client.challenge, account, key.publicKey)),
      ...firstList(account, key.publicKey, 'x'),
    });
    expect(answer).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('accepts the access token on reconnect and refuses a forged one', async () => {
    const device = await register(server.dial());
    const client = await FrameClient.connect(server.dial());
    const signature = device.identity.sign(authSignedMessage(client.challenge, device.account, 1));
    const ok = await client.expect({ type: 'auth', id: 0, account: device.account, deviceId: 1, signature }, 'auth_ok');
    const again = await FrameClient.connect(server.dial());
    const viaToken = await again.expect({ type: 'auth_token', id: 0, token: ok.token }, 'auth_ok');
    expect(viaToken).toMatchObject({ account: device.account, deviceId: 1 });
    const forged = ok.token.slice();
    forged[forged.length - 1]! ^= 1;
    const third = await FrameClient.connect(server.dial());
    const refused = await third.request({ type: 'auth_token', id: 0, token: forged });
    expect(refused).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('refuses a second authentication on an authenticated connection (FORBIDDEN)', async () => {
    const device = await register(server.dial());
    const again = await device.client.request({
      type: 'auth',
      id: 0,
      account: device.account,
      deviceId: 1,
      signature: device.identity.sign(authSignedMessage(device.client.challenge, device.account, 1)),
    });
    expect(again).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  });
});
