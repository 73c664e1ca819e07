import { fromBase64, toBase64 } from '../base64.ts';
import type { Content } from '../content.ts';
import { randomId } from '../content.ts';
import { addressKey, type DeviceAddress, type E2EEngine } from '../e2e/engine.ts';
import { PulseError } from '../errors.ts';
import type { ClientEvents, Emit } from '../events.ts';
import type { ClientLimits } from '../limits.ts';
import type { Outbox } from '../outbox.ts';
import type { Channels } from '../presence.ts';
import type { TrustBook } from '../trust.ts';
import { type ChannelControl, type ChannelPosition, isEncryptedChannelName } from './control.ts';
import type { EncryptedChannelRecord, EncryptedChannelRecords } from './record.ts';
import { ciphertextOf, pad, sealedPayload, unpad } from './sealing.ts';

export type EncryptedChannelChange = 'joined' | 'updated' | 'removed';

export interface EncryptedChannelsDeps {
  readonly engine: E2EEngine;
  readonly outbox: Outbox;
  readonly trust: TrustBook;
  readonly channels: Channels;
  readonly records: EncryptedChannelRecords;
  readonly limits: Pick<ClientLimits, 'maxGroupMembers'>;
  self(): { account: string; deviceId: number };
  persist(): Promise<void>;
  readonly emit: Emit;
}

/** A fresh channel name nobody can guess: 128 random bits in the `public:` namespace. */
export function newEncryptedChannelName(): string {
  return `public:e2e.${randomId()}`;
}

/**
 * End-to-end encrypted channels (README "Encrypted channels"): Sender Keys as in
 * groups (groups.ts), but a publication is one `publish` of one ciphertext on a
 * server channel instead of one envelope per member device. Each member device
 * has its own sender key for the channel, handed to the other member devices over
 * the 1:1 sessions (only devices in accepted signed lists have sessions). The
 * member list is held by the members. A removal makes every remaining member
 * rotate; a member added later is given the senders' keys at their current
 * iteration and reads from there on, never before. Owns the profile's
 * `encryptedChannels`.
 */
export class EncryptedChannels {
  readonly #deps: EncryptedChannelsDeps;

  constructor(deps: EncryptedChannelsDeps) {
    this.#deps = deps;
  }

  /** Whether publications on `channel` are this profile's to encrypt and decrypt. */
  has(channel: string): boolean {
    return this.#deps.records.get(channel) !== undefined;
  }

  get(channel: string): EncryptedChannelRecord | undefined {
    return this.#deps.records.get(channel);
  }

  all(): EncryptedChannelRecord[] {
    return this.#deps.records.all();
  }

  require(channel: string): EncryptedChannelRecord {
    const record = this.#deps.records.get(channel);
    if (record === undefined) throw new PulseError('NOT_A_MEMBER', `no encrypted channel ${channel} in this profile`);
    if (record.left) throw new PulseError('NOT_A_MEMBER', `you are no longer a member of ${channel}`);
    return record;
  }

  /**
   * Subscribes to an encrypted channel, creating it (this account its only
   * member) when the profile does not hold it yet. Resumes after the last
   * publication processed (kept in the profile, so across restarts too), else from
   * the point this member was given access; `since` overrides both.
   */
  async subscribe(channel: string, since?: ChannelPosition): Promise<void> {
    let record = this.#deps.records.get(channel);
    if (record === undefined) {
      if (!isEncryptedChannelName(channel)) {
        throw new PulseError(
          'BAD_INPUT',
          `an encrypted channel is named public:… (at most 128 characters): ${channel}`,
        );
      }
      record = { channel, key: randomId(), members: [this.#deps.self().account], distributedTo: [], left: false };
      this.#deps.records.put(record);
      await this.#deps.persist();
    }
    if (record.left) throw new PulseError('NOT_A_MEMBER', `you are no longer a member of ${channel}`);
    await this.#deps.channels.subscribe(channel, since ?? record.position ?? record.access);
  }

  /** Adds `account`: every member learns it, and it gets this device's key and the point it may read from. */
  async add(channel: string, account: string): Promise<EncryptedChannelRecord> {
    const record = this.require(channel);
    if (record.members.includes(account)) throw new PulseError('BAD_INPUT', `${account} is already a member`);
    if (record.members.length >= this.#deps.limits.maxGroupMembers) {
      throw new PulseError('BAD_INPUT', 'the channel is full');
    }
    record.members.push(account);
    await this.#deps.persist();
    await this.#announce(record, [], record.members, { account, access: this.#deps.channels.position(channel) });
    return record;
  }

  /**
   * Removes `account`: the remaining members learn it and every remaining member
   * (this device first) rotates its sender key, sent to the remaining members
   * only, so the removed member cannot read what follows.
   */
  async remove(channel: string, account: string): Promise<EncryptedChannelRecord> {
    const record = this.require(channel);
    if (!record.members.includes(account)) throw new PulseError('NOT_A_MEMBER', `${account} is not a member`);
    record.members = record.members.filter((m) => m !== account);
    this.#dropMemberKeys(record, account);
    await this.rotate(record);
    await this.#announce(record, [account], [...record.members, account]);
    return record;
  }

  /**
   * Encrypts `payload` once with this device's sender key (after making sure every
   * member device holds it) and publishes the ciphertext; resolves with its offset.
   * The advanced chain is saved before the ciphertext leaves: a crash must never
   * make the device reuse a message key.
   */
  async publish(channel: string, payload: Uint8Array): Promise<number> {
    const record = this.require(channel);
    await this.#distribute(record);
    const ciphertext = await this.#deps.engine.groupEncrypt(record.key, pad(payload));
    await this.#deps.persist();
    return this.#deps.channels.publish(channel, sealedPayload(ciphertext));
  }

  /**
   * A publication on an encrypted channel: decrypted and emitted as a `channel`
   * event with the plaintext, or reported as `channel_unreadable` (published
   * before this device was given access, after it was removed, by a non-member,
   * or not encrypted at all). This device's own publications are skipped: a
   * sender cannot decrypt its own Sender Key messages.
   */
  async receive(message: ClientEvents['channel']): Promise<void> {
    const { engine, emit, self } = this.#deps;
    const me = self();
    const from = message.from;
    const record = this.#deps.records.get(message.channel);
    const epoch = this.#deps.channels.position(message.channel)?.epoch;
    if (record !== undefined && epoch !== undefined) record.position = { epoch, offset: message.offset };
    if (from.account === me.account && from.deviceId === me.deviceId) return;
    try {
      if (record === undefined || record.left) {
        throw new PulseError('NOT_A_MEMBER', `not a member of ${message.channel}`);
      }
      if (!record.members.includes(from.account)) {
        throw new PulseError('NOT_A_MEMBER', `${from.account} is not a member of ${message.channel}`);
      }
      const padded = await engine.groupDecrypt(from, record.key, ciphertextOf(message.payload));
      emit('channel', { ...message, payload: unpad(padded), encrypted: true });
    } catch (error) {
      emit('channel_unreadable', {
        channel: message.channel,
        offset: message.offset,
        from,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    // The position (and the peer's chain) moved on: saved with whatever else changed (coalesced).
    void this.#deps.persist().catch(() => {});
  }

  /**
   * Applies what a member sent over a 1:1 session: a sender key, or a membership
   * change (`later` gets the work that sends: rotation after a departure, the
   * subscription of a member just added).
   */
  async apply(from: DeviceAddress, control: ChannelControl, later: (() => Promise<void>)[]): Promise<void> {
    const { engine, records } = this.#deps;
    const existing = records.get(control.channel);
    if (control.t === 'channel_key') {
      if (existing === undefined || existing.left || !existing.members.includes(from.account)) return;
      await engine.processSenderKeyDistribution(from, existing.key, fromBase64(control.distribution));
      return;
    }
    const me = this.#deps.self().account;
    // Only members change a channel; a channel new to this profile must name its sender and this account.
    if (existing !== undefined && (existing.key !== control.key || !existing.members.includes(from.account))) return;
    if (existing === undefined && !(control.members.includes(from.account) && control.members.includes(me))) return;
    const removedMe = control.removed.includes(me);
    const record: EncryptedChannelRecord = existing ?? {
      channel: control.channel,
      key: control.key,
      members: [],
      distributedTo: [],
      left: false,
      ...(control.access === undefined ? {} : { access: control.access }),
    };
    const departed = record.members.filter((m) => !control.members.includes(m));
    if (!removedMe) record.members = control.members;
    record.left = removedMe;
    records.put(record);
    for (const account of new Set([...control.removed, ...departed])) this.#dropMemberKeys(record, account);
    if (control.senderKey !== undefined && !removedMe) {
      await engine.processSenderKeyDistribution(from, record.key, fromBase64(control.senderKey));
    }
    const change: EncryptedChannelChange = removedMe ? 'removed' : existing === undefined ? 'joined' : 'updated';
    if (removedMe) {
      later.push(() => this.#deps.channels.unsubscribe(record.channel));
    } else if (existing === undefined) {
      // Subscribed from the point of access, so nothing published since is missed.
      later.push(() => this.#deps.channels.subscribe(record.channel, record.access));
    } else if (control.removed.length > 0 || departed.length > 0) {
      // A member left: this device's sender key is no longer secret from them; rotate it.
      later.push(() => this.rotate(record));
    }
    this.#deps.emit('encrypted_channel', { channel: record.channel, members: [...record.members], change });
  }

  /** Replaces this device's sender key and hands the new one to the current members only. */
  async rotate(record: EncryptedChannelRecord): Promise<void> {
    await this.#deps.engine.senderKeyDistribution(record.key, true);
    record.distributedTo = [];
    await this.#deps.persist();
    if (!record.left) await this.#distribute(record);
  }

  /** Makes sure every member device holds this device's current sender key (sent over the 1:1 sessions). */
  async #distribute(record: EncryptedChannelRecord): Promise<void> {
    const { engine, outbox } = this.#deps;
    const me = this.#deps.self().account;
    const distribution = toBase64(await engine.senderKeyDistribution(record.key, false));
    for (const member of record.members) {
      const devices = member === me ? outbox.otherOwnDevices() : await outbox.devicesOf(member, false);
      const missing = devices.filter(
        (deviceId) => !record.distributedTo.includes(addressKey({ account: member, deviceId })),
      );
      if (missing.length === 0) continue;
      const content: Content = { t: 'channel_key', channel: record.channel, distribution };
      if (member === me) await outbox.sendToOwnDevices(content);
      else await outbox.send(member, content);
      this.#markDistributed(record, member, member === me ? outbox.otherOwnDevices() : devices);
    }
    await this.#deps.persist();
  }

  /** Forgets a former member's sender keys: nothing it publishes decrypts any more. */
  #dropMemberKeys(record: EncryptedChannelRecord, account: string): void {
    for (const deviceId of this.#deps.trust.knownDevices(account)) {
      this.#deps.engine.dropSenderKey({ account, deviceId }, record.key);
    }
    record.distributedTo = record.distributedTo.filter((key) => !key.startsWith(`${account}.`));
  }

  /**
   * Tells `recipients` the channel's members after a change (and who was removed),
   * with this device's sender key for those still members; `added` also gets the
   * position it may read from.
   */
  async #announce(
    record: EncryptedChannelRecord,
    removed: readonly string[],
    recipients: readonly string[],
    added?: { account: string; access: ChannelPosition | undefined },
  ): Promise<void> {
    const { engine, outbox, trust } = this.#deps;
    const me = this.#deps.self().account;
    const senderKey = toBase64(await engine.senderKeyDistribution(record.key, false));
    for (const account of recipients) {
      const stillMember = record.members.includes(account);
      const access = added?.account === account ? added.access : undefined;
      const content: Content = {
        t: 'channel',
        channel: record.channel,
        key: record.key,
        members: [...record.members],
        removed: [...removed],
        ...(stillMember ? { senderKey } : {}),
        ...(access === undefined ? {} : { access }),
      };
      if (account === me) {
        await outbox.sendToOwnDevices(content);
        if (stillMember) this.#markDistributed(record, me, outbox.otherOwnDevices());
        continue;
      }
      await outbox.send(account, content);
      if (stillMember) this.#markDistributed(record, account, trust.knownDevices(account));
    }
    await this.#deps.persist();
  }

  #markDistributed(record: EncryptedChannelRecord, account: string, devices: readonly number[]): void {
    for (const deviceId of devices) {
      const key = addressKey({ account, deviceId });
      if (!record.distributedTo.includes(key)) record.distributedTo.push(key);
    }
  }
}
