import { type FrameOf, MAX_EPHEMERAL_PAYLOAD_BYTES } from '@pulse/proto';
import { type Content, encodeContent, groupPayload, sessionPayload } from './content.ts';
import { addressKey, type E2EEngine } from './e2e/engine.ts';
import type { GroupRecord } from './profile.ts';

/**
 * What may travel as an ephemeral event (PROTOCOL.md "Ephemeral events"):
 * content whose loss is harmless because the next one replaces it. Typing only
 * for now; receipts stay durable (a lost one would leave a message unconfirmed).
 */
export type EphemeralContent = Extract<Content, { t: 'typing' }>;

export function isEphemeralContent(content: Content): content is EphemeralContent {
  return content.t === 'typing';
}

export interface EphemeralSenderDeps {
  readonly engine: E2EEngine;
  /** The devices `account`'s accepted signed device list gives (TrustBook.knownDevices). */
  readonly knownDevices: (account: string) => readonly number[];
  /** Hands the frame to the transport: a datagram when it has them, never answered (PulseConnection.sendEphemeral). */
  readonly send: (frame: FrameOf<'send_ephemeral'>) => void;
  /** This account. */
  readonly self: () => { account: string };
  /** Saves the profile: the ratchet or sender key advanced. */
  readonly persist: () => Promise<void>;
}

/**
 * Sends ephemeral events, end-to-end encrypted like any message but never
 * stored by the server and never retried. Only devices this profile already
 * holds a session with (or, in a group, already gave its sender key) get one:
 * a typing indicator is not worth a bundle fetch, a spent one-time prekey or a
 * stored envelope. Call under the client's lock (it advances ratchets).
 */
export class EphemeralSender {
  readonly #deps: EphemeralSenderDeps;

  constructor(deps: EphemeralSenderDeps) {
    this.#deps = deps;
  }

  /** To every device of `to` this profile has a session with; nothing when there is none. */
  async toAccount(to: string, content: EphemeralContent): Promise<void> {
    const { engine } = this.#deps;
    const devices = this.#deps.knownDevices(to).filter((deviceId) => engine.hasSession({ account: to, deviceId }));
    if (devices.length === 0) return;
    const plaintext = encodeContent(content);
    const envelopes = [];
    for (const deviceId of devices) {
      const payload = sessionPayload(await engine.encrypt({ account: to, deviceId }, plaintext));
      // Beyond the wire's bound only in theory: a typing indicator is 227 bytes, 1873 while it carries the PQXDH header.
      if (payload.length <= MAX_EPHEMERAL_PAYLOAD_BYTES) envelopes.push({ deviceId, payload });
    }
    // Saved before anything leaves, as for any send: a message key is never used twice.
    await this.#deps.persist();
    if (envelopes.length > 0) this.#deps.send({ type: 'send_ephemeral', to, envelopes });
  }

  /** To the other members' devices that hold this device's current sender key (one ciphertext for all). */
  async toGroup(group: GroupRecord, content: EphemeralContent): Promise<void> {
    if (group.left) return;
    const me = this.#deps.self().account;
    const recipients = group.members
      .filter((member) => member !== me)
      .map((account) => ({
        account,
        devices: this.#deps
          .knownDevices(account)
          .filter((deviceId) => group.distributedTo.includes(addressKey({ account, deviceId }))),
      }))
      .filter((recipient) => recipient.devices.length > 0);
    if (recipients.length === 0) return;
    const ciphertext = await this.#deps.engine.groupEncrypt(group.id, encodeContent(content));
    await this.#deps.persist();
    const payload = groupPayload(group.id, ciphertext);
    for (const { account, devices } of recipients) {
      this.#deps.send({
        type: 'send_ephemeral',
        to: account,
        envelopes: devices.map((deviceId) => ({ deviceId, payload })),
      });
    }
  }
}
