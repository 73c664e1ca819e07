/**
 * No public object holding secrets prints them: Node's util.inspect (what console.log
 * uses) and JSON.stringify show a redacted placeholder, never key material.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.ts';
import { SenderKeyRecord, SessionRecord } from '../src/index.ts';
import { enc, makeDevice } from '../src/testing/device.ts';

/** The offset of the root key in a serialized session (src/ratchet/state.ts): version, two identity keys, AD, base key. */
const ROOT_KEY_OFFSET = 1 + 33 + 33 + (4 + 66) + 32;
/** The offset of the first chain key in a serialized sender key record: version, distribution id, count, chain id, iteration. */
const CHAIN_KEY_OFFSET = 1 + 16 + 4 + 4 + 4;

function expectRedacted(value: object, secret: Uint8Array): void {
  const hex = toHex(secret);
  const printed = inspect(value, { showHidden: true, depth: 8 });
  const json = JSON.stringify({ value });
  expect(printed).toContain('redacted');
  expect(json).toContain('redacted');
  expect(printed).not.toContain(hex);
  expect(json).not.toContain(hex);
}

describe('secrets never print', () => {
  it('session records and the sessions they show', async () => {
    const alice = makeDevice();
    const bob = makeDevice();
    const record = new SessionRecord();
    const session = await record.initiate(alice.identity, bob.bundle());
    await record.encrypt(enc('x'));
    const rootKey = session.serialize().subarray(ROOT_KEY_OFFSET, ROOT_KEY_OFFSET + 32);
    expectRedacted(record, rootKey);
    expectRedacted(session, rootKey);
  });

  it('sender key records', () => {
    const sender = SenderKeyRecord.createForSending();
    const chainKey = sender.serialize().subarray(CHAIN_KEY_OFFSET, CHAIN_KEY_OFFSET + 32);
    expectRedacted(sender, chainKey);
    expectRedacted(SenderKeyRecord.fromDistributionMessage(sender.createDistributionMessage()), chainKey);
  });

  it('prekeys, and the store holding them', () => {
    const device = makeDevice();
    for (const key of [
      device.store.getSignedPreKey(1)!,
      device.store.getOneTimePreKey(10)!,
      device.store.getPqPreKey(101)!,
    ]) {
      const privateKey = key.serialize().subarray(5, 5 + 32);
      expectRedacted(key, privateKey);
      const printedStore = inspect(device.store, { showHidden: true, depth: 8 });
      expect(printedStore).not.toContain(toHex(privateKey));
    }
  });
});
