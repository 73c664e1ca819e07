import type { FrameOf } from '@pulse/proto';
import type { PulseConnection } from './connection/connection.ts';
import { type Content, encodeContent, sessionPayload } from './content.ts';
import type { E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { TrustBook } from './trust.ts';

export interface OutboxContext {
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly trust: TrustBook;
  /** This account and device. */
  self(): { account: string; deviceId: number };
  /** Every device of this account, this one included, as last listed by the server. */
  ownDevices(): readonly number[];
  refreshOwnDevices(): Promise<void>;
  persist(): Promise<void>;
}

/**
 * 1:1 encrypted sending: a session per recipient device (PQXDH from fetched
 * bundles), one ciphertext per device, one `send` per account. A
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
    const plaintext = encodeContent(content);
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
   * Encrypts and issues the send without waiting for the server's answer, so
   * that consecutive sends pipeline (the server commits them together). The
   * caller awaits `answer`; on DEVICES_MISMATCH it repeats with `send(…, true)`.
   */
  async start(to: string, content: Content): Promise<{ answer: Promise<void> }> {
    return this.#issueEncrypted(to, await this.devicesOf(to, false), encodeContent(content));
  }

  /** A copy for this account's other devices, so every device shows the whole conversation. */
  async sendToOwnDevices(content: Content): Promise<void> {
    if (this.otherOwnDevices().length === 0) return;
    const plaintext = encodeContent(content);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.#ctx.refreshOwnDevices();
      const others = this.otherOwnDevices();
      if (others.length === 0) return;
      await this.#ensureSessions(this.#ctx.self().account, others);
      try {
        await (await this.#issueEncrypted(this.#ctx.self().account, others, plaintext)).answer;
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
      if (refresh) await this.#ctx.refreshOwnDevices();
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

  /** Fetches `account`'s bundles, checks their identity keys and builds missing sessions; returns its devices. */
  async fetchBundles(account: string): Promise<number[]> {
    const { engine, trust } = this.#ctx;
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
    const own = account === this.#ctx.self().account;
    const present = new Set(answer.bundles.map((b) => b.deviceId));
    for (const deviceId of trust.knownDevices(account)) {
      if (!present.has(deviceId)) {
        trust.forget(account, deviceId); // a removed device
        engine.dropSession({ account, deviceId });
      }
    }
    let changed = false;
    for (const bundle of answer.bundles) {
      // Own devices: the server's device list is authoritative (README "Known limits").
      if (!own && !trust.observe(account, bundle.deviceId, bundle.identityKey)) {
        changed = true;
        continue;
      }
      const address = { account, deviceId: bundle.deviceId };
      if (!engine.hasSession(address)) await engine.startSession(address, bundle);
    }
    await this.#ctx.persist();
    if (changed) trust.requireUnchanged(account);
    return answer.bundles.map((b) => b.deviceId);
  }

  /** Sends one payload (a group ciphertext) to the given devices of `account`. */
  async sendPayload(account: string, devices: readonly number[], payload: Uint8Array): Promise<void> {
    if (devices.length === 0) return;
    await this.#ctx.connection.request({
      type: 'send',
      to: account,
      envelopes: devices.map((deviceId) => ({ deviceId, payload })),
    });
  }

  async #issueEncrypted(
    to: string,
    devices: readonly number[],
    plaintext: Uint8Array,
  ): Promise<{ answer: Promise<void> }> {
    const envelopes = [];
    for (const deviceId of devices) {
      const ciphertext = await this.#ctx.engine.encrypt({ account: to, deviceId }, plaintext);
      envelopes.push({ deviceId, payload: sessionPayload(ciphertext) });
    }
    // The ratchet advanced: save before the server can deliver anything encrypted with it.
    await this.#ctx.persist();
    const answer = this.#ctx.connection.request({ type: 'send', to, envelopes }).then(() => {});
    answer.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile
    return { answer };
  }

  async #ensureSessions(account: string, deviceIds: readonly number[]): Promise<void> {
    if (deviceIds.every((deviceId) => this.#ctx.engine.hasSession({ account, deviceId }))) return;
    await this.fetchBundles(account);
  }
}
