import { fromBase64, toBase64 } from './base64.ts';
import { type Content, encodeContent, groupPayload, randomId } from './content.ts';
import { addressKey, type DeviceAddress, type E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import type { Outbox } from './outbox.ts';
import type { GroupRecord } from './profile.ts';
import type { TrustBook } from './trust.ts';

export type GroupChange = 'created' | 'updated' | 'removed';

export interface GroupsContext {
  readonly engine: E2EEngine;
  readonly outbox: Outbox;
  readonly trust: TrustBook;
  readonly limits: ClientLimits;
  /** The profile's groups, by id (mutated in place, saved by `persist`). */
  readonly records: Record<string, GroupRecord>;
  self(): { account: string; deviceId: number };
  refreshOwnDevices(): Promise<void>;
  persist(): Promise<void>;
}

/**
 * Groups with Sender Keys (README "Groups"): each member device's sender key
 * travels to the other member devices over the 1:1 sessions; a group message is
 * encrypted once and the same ciphertext goes in one envelope per member device.
 * Membership changes are encrypted `group` messages with the full member list;
 * a removal makes every remaining member rotate its sender key. Owns the
 * profile's `groups`.
 */
export class Groups {
  readonly #ctx: GroupsContext;

  constructor(context: GroupsContext) {
    this.#ctx = context;
  }

  /** The group with this id (never a name). */
  byId(groupId: string): GroupRecord | undefined {
    return this.#ctx.records[groupId];
  }

  all(): GroupRecord[] {
    return Object.values(this.#ctx.records);
  }

  /** What a newly linked device of this account starts with (the provisioning message carries it). */
  snapshot(): Record<string, GroupRecord> {
    return structuredClone(this.#ctx.records);
  }

  /** A newly linked device starts in the approving device's groups, holding none of their sender keys yet. */
  adopt(records: Record<string, GroupRecord>): void {
    const copies = structuredClone(records);
    for (const group of Object.values(copies)) group.distributedTo = [];
    Object.assign(this.#ctx.records, copies);
  }

  /** A group by id or (unique, among groups still joined) name. */
  find(idOrName: string): GroupRecord | undefined {
    const records = this.#ctx.records;
    if (records[idOrName] !== undefined) return records[idOrName];
    const named = Object.values(records).filter((g) => g.name === idOrName && !g.left);
    return named.length === 1 ? named[0] : undefined;
  }

  require(idOrName: string): GroupRecord {
    const group = this.find(idOrName);
    if (group === undefined) throw new PulseError('UNKNOWN_GROUP', `no group ${idOrName} in this profile`);
    return group;
  }

  async create(name: string, members: readonly string[]): Promise<GroupRecord> {
    const me = this.#ctx.self().account;
    const all = [...new Set([me, ...members])];
    if (all.length > this.#ctx.limits.maxGroupMembers) throw new PulseError('BAD_INPUT', 'too many group members');
    const group: GroupRecord = { id: randomId(), name, members: all, distributedTo: [], left: false };
    this.#ctx.records[group.id] = group;
    await this.#ctx.persist();
    await this.#announce(group, [], all);
    return group;
  }

  async add(idOrName: string, account: string): Promise<GroupRecord> {
    const group = this.require(idOrName);
    if (group.members.includes(account)) throw new PulseError('BAD_INPUT', `${account} is already a member`);
    if (group.members.length >= this.#ctx.limits.maxGroupMembers)
      throw new PulseError('BAD_INPUT', 'the group is full');
    group.members.push(account);
    await this.#ctx.persist();
    await this.#announce(group, [], group.members);
    return group;
  }

  /**
   * Removes `account`: the remaining members learn it, and every remaining
   * member (this device first) rotates its sender key, so the removed member
   * cannot read what follows.
   */
  async remove(idOrName: string, account: string): Promise<GroupRecord> {
    const group = this.require(idOrName);
    if (!group.members.includes(account)) throw new PulseError('NOT_A_MEMBER', `${account} is not a member`);
    group.members = group.members.filter((m) => m !== account);
    this.#dropMemberKeys(group, account);
    await this.rotate(group);
    await this.#announce(group, [account], [...group.members, account]);
    return group;
  }

  /** Sends group content: one sender-key ciphertext, carried in envelopes to every member device. */
  async send(group: GroupRecord, content: Content): Promise<void> {
    if (group.left) throw new PulseError('NOT_A_MEMBER', `you are no longer a member of ${group.name}`);
    await this.#distribute(group);
    const ciphertext = await this.#ctx.engine.groupEncrypt(group.id, encodeContent(content));
    await this.#ctx.persist();
    const payload = groupPayload(group.id, ciphertext);
    for (const member of group.members) {
      try {
        await this.#ctx.outbox.sendPayload(member, await this.#ctx.outbox.devicesOf(member, false), payload);
      } catch (error) {
        if (!PulseError.is(error, 'DEVICES_MISMATCH')) throw error;
        // The member's devices changed: give new devices the sender key, then retry once.
        await this.#ctx.outbox.devicesOf(member, true);
        await this.#distribute(group);
        await this.#ctx.outbox.sendPayload(member, await this.#ctx.outbox.devicesOf(member, false), payload);
      }
    }
  }

  /** Applies a membership message from `from`; returns what changed for this profile, if anything. */
  async applyUpdate(
    from: DeviceAddress,
    update: Extract<Content, { t: 'group' }>,
    later: (() => Promise<void>)[],
  ): Promise<{ group: GroupRecord; change: GroupChange } | undefined> {
    const me = this.#ctx.self().account;
    const existing = this.#ctx.records[update.group];
    // Only members change a group; a new group must name its sender as a member.
    if (existing !== undefined && !existing.members.includes(from.account)) return undefined;
    if (existing === undefined && !update.members.includes(from.account)) return undefined;
    const removedMe = update.removed.includes(me);
    const group: GroupRecord = existing ?? {
      id: update.group,
      name: update.name,
      members: [],
      distributedTo: [],
      left: false,
    };
    const departed = group.members.filter((m) => !update.members.includes(m));
    group.name = update.name;
    group.members = removedMe ? group.members : update.members;
    group.left = removedMe;
    this.#ctx.records[group.id] = group;
    for (const account of new Set([...update.removed, ...departed])) this.#dropMemberKeys(group, account);
    if (update.senderKey !== undefined) {
      await this.#ctx.engine.processSenderKeyDistribution(from, group.id, fromBase64(update.senderKey));
    }
    if (!removedMe && (update.removed.length > 0 || departed.length > 0)) {
      // A member left: this device's sender key is no longer secret from them; rotate it.
      later.push(() => this.rotate(group));
    }
    return { group, change: removedMe ? 'removed' : existing === undefined ? 'created' : 'updated' };
  }

  /** Installs a member's sender key; ignored unless the sender is a member of a group this profile knows. */
  async applySenderKey(from: DeviceAddress, message: Extract<Content, { t: 'sender_key' }>): Promise<void> {
    const group = this.#ctx.records[message.group];
    if (group === undefined || !group.members.includes(from.account)) return;
    await this.#ctx.engine.processSenderKeyDistribution(from, group.id, fromBase64(message.distribution));
  }

  /** Replaces this device's sender key and hands the new one to the current members only. */
  async rotate(group: GroupRecord): Promise<void> {
    await this.#ctx.engine.senderKeyDistribution(group.id, true);
    group.distributedTo = [];
    await this.#ctx.persist();
    if (!group.left) await this.#distribute(group);
  }

  /** Makes sure every member device holds this device's current sender key (sent over the 1:1 sessions). */
  async #distribute(group: GroupRecord): Promise<void> {
    const me = this.#ctx.self().account;
    const distribution = toBase64(await this.#ctx.engine.senderKeyDistribution(group.id, false));
    for (const member of group.members) {
      const devices = await this.#ctx.outbox.devicesOf(member, false);
      const missing = devices.filter(
        (deviceId) => !group.distributedTo.includes(addressKey({ account: member, deviceId })),
      );
      if (missing.length === 0) continue;
      const content: Content = { t: 'sender_key', group: group.id, distribution };
      if (member === me) await this.#ctx.outbox.sendToOwnDevices(content);
      else await this.#ctx.outbox.send(member, content);
      this.#markDistributed(group, member, devices);
    }
    await this.#ctx.persist();
  }

  /** Forgets a former member's sender keys: nothing they send to the group decrypts any more. */
  #dropMemberKeys(group: GroupRecord, account: string): void {
    for (const deviceId of this.#ctx.trust.knownDevices(account)) {
      this.#ctx.engine.dropSenderKey({ account, deviceId }, group.id);
    }
    group.distributedTo = group.distributedTo.filter((key) => !key.startsWith(`${account}.`));
  }

  /** Tells `recipients` the group's state (members after the change, who was removed), with this device's sender key. */
  async #announce(group: GroupRecord, removed: readonly string[], recipients: readonly string[]): Promise<void> {
    const me = this.#ctx.self().account;
    const senderKey = toBase64(await this.#ctx.engine.senderKeyDistribution(group.id, false));
    for (const account of recipients) {
      const stillMember = group.members.includes(account);
      const content: Content = {
        t: 'group',
        group: group.id,
        name: group.name,
        members: group.members,
        removed: [...removed],
        ...(stillMember ? { senderKey } : {}),
      };
      if (account === me) {
        await this.#ctx.outbox.sendToOwnDevices(content);
        if (stillMember) this.#markDistributed(group, me, this.#ctx.outbox.otherOwnDevices());
        continue;
      }
      await this.#ctx.outbox.send(account, content);
      if (stillMember) this.#markDistributed(group, account, this.#ctx.trust.knownDevices(account));
    }
    await this.#ctx.persist();
  }

  #markDistributed(group: GroupRecord, account: string, devices: readonly number[]): void {
    for (const deviceId of devices) {
      const key = addressKey({ account, deviceId });
      if (!group.distributedTo.includes(key)) group.distributedTo.push(key);
    }
  }
}
