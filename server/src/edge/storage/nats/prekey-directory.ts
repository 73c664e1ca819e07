import {
  type OneTimePreKeyIds,
  type PreKeyCounts,
  type PreKeyUpload,
  StoreConflict,
  type TakenPreKeys,
} from '../../../core/store.ts';
import type { AccountDirectory } from './account-directory.ts';
import { compareAndSet, readRevision } from './compare-and-set.ts';
import type { NatsLink } from './link.ts';
import { type DevicePreKeys, decodePreKeys, emptyPreKeys, encodePreKeys } from './prekey-record.ts';

const ascending = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);
const sameIds = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((id, i) => id === b[i]);
const countsOf = (keys: DevicePreKeys): PreKeyCounts => ({
  oneTimePreKeys: keys.ec.size,
  pqOneTimePreKeys: keys.pq.size,
});

/** Removes and returns the lowest-id entry of `map`. */
function takeLowest<T>(map: Map<number, T>): T | undefined {
  const [lowest] = ascending(map.keys());
  if (lowest === undefined) return undefined;
  const value = map.get(lowest);
  map.delete(lowest);
  return value;
}

/**
 * Prekeys in JetStream KV, one key per device. Every change is a
 * compare-and-set on that key (its KV revision): two servers taking a bundle
 * at once cannot both hand out the same one-time prekey, because the second
 * write is refused and re-reads the value the first one left.
 */
export class PreKeyDirectory {
  readonly #link: NatsLink;
  readonly #accounts: AccountDirectory;

  constructor(link: NatsLink, accounts: AccountDirectory) {
    this.#link = link;
    this.#accounts = accounts;
  }

  async oneTimeIds(account: string, deviceId: number): Promise<OneTimePreKeyIds> {
    const keys = await this.#read(account, deviceId);
    return { ec: ascending(keys.ec.keys()), pq: ascending(keys.pq.keys()) };
  }

  async counts(account: string, deviceId: number): Promise<PreKeyCounts> {
    return countsOf(await this.#read(account, deviceId));
  }

  async store(
    account: string,
    deviceId: number,
    upload: PreKeyUpload,
    expected: OneTimePreKeyIds,
  ): Promise<PreKeyCounts> {
    if ((await this.#accounts.get(account, deviceId)) === undefined) {
      throw new StoreConflict(`no device ${account}/${deviceId}`);
    }
    const counts = await this.#change(account, deviceId, (keys) => {
      if (!sameIds(ascending(keys.ec.keys()), expected.ec) || !sameIds(ascending(keys.pq.keys()), expected.pq)) {
        throw new StoreConflict(`the one-time prekeys of ${account}/${deviceId} changed`);
      }
      if (upload.signedPreKey) keys.signed = upload.signedPreKey;
      if (upload.pqLastResortPreKey) keys.lastResort = upload.pqLastResortPreKey;
      for (const key of upload.oneTimePreKeys ?? [])
        keys.ec.set(key.keyId, { keyId: key.keyId, publicKey: key.publicKey });
      for (const key of upload.pqOneTimePreKeys ?? []) keys.pq.set(key.keyId, key);
      return countsOf(keys);
    });
    return counts!;
  }

  /** One bundle per device that has a signed and a last-resort prekey, in device order. */
  async take(account: string): Promise<TakenPreKeys[]> {
    const devices = await this.#accounts.list(account);
    const taken = await Promise.all(
      devices.map((device) =>
        this.#change(account, device.deviceId, (keys): TakenPreKeys | undefined => {
          const { signed, lastResort } = keys;
          if (signed === undefined || lastResort === undefined) return undefined;
          const oneTimePreKey = takeLowest(keys.ec);
          const pqOneTimePreKey = takeLowest(keys.pq);
          return {
            deviceId: device.deviceId,
            identityKey: device.identityKey,
            signedPreKey: signed,
            pqLastResortPreKey: lastResort,
            oneTimePreKey,
            pqOneTimePreKey,
            remaining: countsOf(keys),
          };
        }),
      ),
    );
    return taken.filter((bundle) => bundle !== undefined);
  }

  /** Forgets a removed device's prekeys. */
  drop(account: string, deviceId: number): Promise<void> {
    return this.#link.run(({ preKeys }) => preKeys.purge(this.#link.names.preKeysKey(account, deviceId)));
  }

  #read(account: string, deviceId: number): Promise<DevicePreKeys> {
    return this.#link.run(async ({ preKeys }) => {
      const { value } = await readRevision(preKeys, this.#link.names.preKeysKey(account, deviceId));
      return value === undefined ? emptyPreKeys() : decodePreKeys(value);
    });
  }

  /** Compare-and-set of one device's prekeys; `change` edits them in place (undefined: write nothing). */
  #change<T>(
    account: string,
    deviceId: number,
    change: (keys: DevicePreKeys) => T | undefined,
  ): Promise<T | undefined> {
    return this.#link.run(({ preKeys }) =>
      compareAndSet(preKeys, this.#link.names.preKeysKey(account, deviceId), (bytes) => {
        const keys = bytes === undefined ? emptyPreKeys() : decodePreKeys(bytes);
        const result = change(keys);
        return result === undefined ? undefined : { value: encodePreKeys(keys), result };
      }),
    );
  }
}
