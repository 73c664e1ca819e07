import type { FrameOf, SignedDeviceList } from '@pulse/proto';
import { toBase64 } from './base64.ts';
import type { PulseConnection } from './connection/connection.ts';
import { type Content, encodeContent, sessionPayload } from './content.ts';
import type { E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { SealedSender } from './sealed-sender.ts';
import type { AcceptedDevices, TrustBook } from './trust.ts';

export interface OutboxContext {
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly trust: TrustBook;
  /** This account and device. */
  self(): { account: string; deviceId: number };
  /** Every device of this account, this one included, as its signed list gives them. */
  ownDevices(): readonly number[];
  refreshOwnDevices(): Promise<void>;
  /**
   * Judges a device list the server presented for `account` (this account's
   * own, or a contact's through the TrustBook); throws when it is refused.
   */
  presentList(account: string, accountKey: Uint8Array, signed: SignedDeviceList): AcceptedDevices;
  /** The server lists a device the account did not sign. */
  untrusted(account: string, deviceId: number): void;
  persist(): Promise<void>;
  /** Sealed sender (PROTOCOL.md "Sealed sender"); absent: every envelope goes as a plain `send`. */
  readonly sealing?: Pick<SealedSender, 'sealable' | 'seal' | 'send' | 'forget' | 'profileKey'> | undefined;
}

/**
 * 1:1 encrypted sending: a session per recipient device (PQXDH from fetched
 * bundles), one ciphertext per device, one `send` per account. Only devices in
 * the account's signed device list get anything (PROTOCOL.md "Devices"): a
 * bundle of any other device fails the send with UNTRUSTED_DEVICE. A
 * DEVICES_MISMATCH answer (a device linked or removed) refreshes the device
 * list and retries once.
 */
export class Outbox {
  readonly #ctx: OutboxContext;

  constructor(context: OutboxContext) {
    this.#ctx = context;
  }

  /** Encrypts `content` for every device of `to` and sends it; with `refresh`, the device list is fetched first. */
  async send(to: string, content: Content, refresh = false): Promise<void> {
    const plaintext = encodeContent(content, this.#profileKeyFor(to));
    for (let attempt = 0; ; attempt++) {
      const devices = await this.devicesOf(to, refresh || attempt > 0);
      try {
        await (await this.#issueEncrypted(to, devices, plaintext)).answer;
        return;
      } catch (error) {
        if (!PulseError.is(error, 'DEVICES_MISMATCH') || attempt > 0) throw error;
      }
    }
  }

  /**
   * Encrypts and issues the send without waiting for the save or the server's
   * answer, so that consecutive sends pipeline: their saves coalesce (one per
   * burst, profile.ts) and the server commits them together. `record` runs
   * once the content is encrypted, before the save is asked for, so what it
   * changes (the message in the history) is in the save that precedes the
   * send. The caller awaits `answer`; on DEVICES_MISMATCH it repeats with
   * `send(…, true)`.
   */
  async start(to: string, content: Content, record?: () => void): Promise<{ answer: Promise<void> }> {
    const plaintext = encodeContent(content, this.#profileKeyFor(to));
    return this.#issueEncrypted(to, await this.devicesOf(to, false), plaintext, record);
  }

  /** This account's profile key goes with everything sent to another account (sealed-sender.ts). */
  #profileKeyFor(to: string): string | undefined {
    return to === this.#ctx.self().account ? undefined : this.#ctx.sealing?.profileKey;
  }

  /**
   * Sends envelopes to `to`: sealed when the sealing says it can (the store then
   * keeps no sender), else as a plain `send`. A delivery token the server
   * refuses (UNAUTHORIZED) is forgotten and the same envelopes go plain: they
   * are the same ciphertexts, so the recipient reads each once either way.
   */
  async #transmit(to: string, envelopes: { deviceId: number; payload: Uint8Array }[]): Promise<void> {
    const sealing = this.#ctx.sealing;
    const sealed = sealing?.sealable(to) ? await sealing.seal(to, envelopes) : undefined;
    if (sealing !== undefined && sealed !== undefined) {
      try {
        // Over the anonymous connection when it works (sealed-sender.ts `send`).
        await sealing.send(sealed);
        return;
      } catch (error) {
        if (!PulseError.is(error, 'UNAUTHORIZED')) throw error;
        sealing.forget(to);
      }
    }
    await this.#ctx.connection.request({ type: 'send', to, envelopes });
  }

  /** A copy for this account's other devices, so every device shows the whole conversation. */
  async sendToOwnDevices(content: Content): Promise<void> {
    if (this.otherOwnDevices().length === 0) return;
    const plaintext = encodeContent(content);
    const account = this.#ctx.self().account;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        // The server's devices differ: the signed list and the bundles say which to trust.
        await this.#ctx.refreshOwnDevices();
        await this.fetchBundles(account);
      }
      const others = this.otherOwnDevices();
      if (others.length === 0) return;
      await this.#ensureSessions(account, others);
      try {
        await (await this.#issueEncrypted(account, others, plaintext)).answer;
        return;
      } catch (error) {
        if (!PulseError.is(error, 'DEVICES_MISMATCH') || attempt > 0) throw error;
      }
    }
  }

  otherOwnDevices(): number[] {
    const self = this.#ctx.self().deviceId;
    return this.#ctx.ownDevices().filter((d) => d !== self);
  }

  /** The devices of `account`, each with a session; fetches bundles when some are missing or on `refresh`. */
  async devicesOf(account: string, refresh: boolean): Promise<number[]> {
    if (account === this.#ctx.self().account) {
      if (refresh) {
        await this.#ctx.refreshOwnDevices();
        await this.fetchBundles(account);
      }
      const others = this.otherOwnDevices();
      await this.#ensureSessions(account, others);
      return others;
    }
    this.#ctx.trust.requireUnchanged(account);
    const known = this.#ctx.trust.knownDevices(account);
    const withSession = known.filter((deviceId) => this.#ctx.engine.hasSession({ account, deviceId }));
    if (!refresh && withSession.length > 0 && withSession.length === known.length) return withSession;
    return this.fetchBundles(account);
  }

  /**
   * Fetches `account`'s bundles with its signed device list, judges the list,
   * and builds sessions only with listed devices whose bundle carries the listed
   * identity key. Any other bundle is a device the account did not sign: the
   * send stops with UNTRUSTED_DEVICE. Returns the devices to encrypt for.
   */
  async fetchBundles(account: string): Promise<number[]> {
    const { engine } = this.#ctx;
    let answer: FrameOf<'bundles'>;
    try {
      answer = await this.#ctx.connection.request({ type: 'bundle_fetch', account });
    } catch (error) {
      if (PulseError.is(error, 'NOT_FOUND') || PulseError.is(error, 'PREKEYS_EXHAUSTED')) {
        throw new PulseError('UNKNOWN_CONTACT', `no account ${account} on this server (or it has no devices)`, {
          cause: error,
        });
      }
      throw error;
    }
    const accepted = this.#accept(account, answer.accountKey, answer.deviceList);
    const listed = new Map(answer.deviceList.devices.map((d) => [d.deviceId, toBase64(d.identityKey)]));
    const untrusted = answer.bundles.filter((b) => listed.get(b.deviceId) !== toBase64(b.identityKey));
    if (untrusted.length > 0) {
      await this.#ctx.persist();
      for (const bundle of untrusted) this.#ctx.untrusted(account, bundle.deviceId);
      const ids = untrusted.map((b) => b.deviceId).join(', ');
      throw new PulseError(
        'UNTRUSTED_DEVICE',
        `the server lists device ${ids} of ${account}, which ${account}'s signed device list does not hold: nothing was sent`,
      );
    }
    const self = this.#ctx.self();
    const targets = answer.bundles.filter((b) => !(account === self.account && b.deviceId === self.deviceId));
    for (const bundle of targets) {
      const address = { account, deviceId: bundle.deviceId };
      if (!engine.hasSession(address)) await engine.startSession(address, bundle);
    }
    await this.#ctx.persist();
    return targets.map((b) => b.deviceId).filter((deviceId) => accepted.devices.includes(deviceId));
  }

  /** Fetches `account`'s signed device list alone (a message from a device not yet known, safety numbers). */
  async fetchList(account: string): Promise<void> {
    const answer = await this.#ctx.connection.request({ type: 'device_list', account });
    this.#accept(account, answer.accountKey, answer.deviceList);
    await this.#ctx.persist();
  }

  #accept(account: string, accountKey: Uint8Array, signed: SignedDeviceList): AcceptedDevices {
    const accepted = this.#ctx.presentList(account, accountKey, signed);
    for (const deviceId of accepted.stale) this.#ctx.engine.dropSession({ account, deviceId });
    return accepted;
  }

  /** Sends one payload (a group ciphertext) to the given devices of `account`. */
  async sendPayload(account: string, devices: readonly number[], payload: Uint8Array): Promise<void> {
    if (devices.length === 0) return;
    await this.#transmit(
      account,
      devices.map((deviceId) => ({ deviceId, payload })),
    );
  }

  async #issueEncrypted(
    to: string,
    devices: readonly number[],
    plaintext: Uint8Array,
    record?: () => void,
  ): Promise<{ answer: Promise<void> }> {
    const envelopes: { deviceId: number; payload: Uint8Array }[] = [];
    for (const deviceId of devices) {
      const ciphertext = await this.#ctx.engine.encrypt({ account: to, deviceId }, plaintext);
      envelopes.push({ deviceId, payload: sessionPayload(ciphertext) });
    }
    record?.();
    // The ratchet advanced: the send goes out only once a save holding it is stored, so the
    // server never delivers anything encrypted with a state this device could lose. Saves
    // settle in order, so sends leave in the order they were encrypted.
    const answer = this.#ctx.persist().then(() => this.#transmit(to, envelopes));
    answer.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile
    return { answer };
  }

  async #ensureSessions(account: string, deviceIds: readonly number[]): Promise<void> {
    if (deviceIds.every((deviceId) => this.#ctx.engine.hasSession({ account, deviceId }))) return;
    await this.fetchBundles(account);
  }
}
