import { IdentityKeyPair } from '@pulse/crypto';
import { type FrameOf, linkRequestSignedMessage } from '@pulse/proto';
import { fromBase64, toBase64 } from './base64.ts';
import type { PulseConnection } from './connection/connection.ts';
import type { HandshakeSession } from './connection/handshake.ts';
import { type ListedDevice, listedKey, listSignedBy, toStored, toWire } from './device-lists.ts';
import type { DeviceAddress, E2EEngine, PreKeyUpload } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import { approvalMac, approvalMacMatches, newLinkCode, requestMac, requestMacMatches } from './link-code.ts';
import type { OwnDevices } from './own-devices.ts';
import type { AccountRecord, ContactRecord, GroupRecord } from './profile.ts';
import { decodeProvisioning, encodeProvisioning } from './provisioning.ts';

/** A device asking to join this account (PROTOCOL.md "Linking"), as `pendingLinks` lists it. */
export interface LinkRequest {
  readonly linkId: string;
  /** The id the server proposes for it. */
  readonly deviceId: number;
  readonly deviceName: string;
  readonly requestedAt: number;
  readonly expiresAt: number;
}

/** What a new device receives from the approving one besides the account (contacts, groups). */
export interface SharedState {
  readonly contacts: Record<string, ContactRecord>;
  readonly groups: Record<string, GroupRecord>;
}

/** Where the one-off provisioning session lives in the engine: no account name can contain `~`. */
export const PROVISIONING_ADDRESS: DeviceAddress = { account: '~link', deviceId: 0 };

export interface LinkingDeps {
  readonly record: AccountRecord;
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly limits: ClientLimits;
  readonly server: string;
  readonly own: OwnDevices;
  /** What this device hands a device it approves, and how a linked device takes it. */
  readonly shared: { export(): SharedState; adopt(state: SharedState): void };
  readonly persist: () => Promise<void>;
}

interface PendingLink {
  readonly account: string;
  readonly code: string;
  readonly upload: PreKeyUpload;
  readonly mac: Uint8Array;
  linkId?: string;
  approved?: (frame: FrameOf<'link_approved'>) => void;
}

/**
 * Linking by approval, both sides (PROTOCOL.md "Linking", README "Linking").
 * The new device shows a code and asks; a device of the account that the user
 * types the code into signs it into the device list and sends it the account
 * identity in a provisioning message only it can decrypt.
 */
export class Linking {
  readonly #deps: LinkingDeps;
  #pending: PendingLink | undefined;

  constructor(deps: LinkingDeps) {
    this.#deps = deps;
  }

  /** True while this (fresh) device waits to be approved: the ready hook completes the link. */
  get pending(): boolean {
    return this.#pending !== undefined;
  }

  // ---- the new device ------------------------------------------------------------------

  /**
   * Asks to become a device of `account`: shows the code through `onCode`, then
   * waits until a device of the account approves with it. Resolves once linked
   * and authenticated.
   */
  async request(account: string, onCode: (code: string) => void): Promise<void> {
    const { engine, record, connection } = this.#deps;
    const code = newLinkCode();
    // The prekeys the approving device encrypts the provisioning message to.
    const upload = await engine.generatePreKeys(0, true);
    const mac = await requestMac(code, account, record.deviceName, engine.identityKey);
    this.#pending = { account, code, upload, mac };
    onCode(code);
    try {
      await connection.connect();
    } catch (error) {
      connection.reset(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      this.#pending = undefined;
    }
  }

  /** The server relayed an approval (push): the waiting link, if it is this one, continues. */
  onApproved(frame: FrameOf<'link_approved'>): void {
    const link = this.#pending;
    if (link?.linkId === frame.linkId) link.approved?.(frame);
  }

  /**
   * In the ready hook: sends the link request, waits for the approval, checks
   * the provisioning message and takes the account it carries. The caller then
   * authenticates as the device it names.
   */
  async complete(session: HandshakeSession): Promise<void> {
    const link = this.#pending;
    if (link === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    const { engine, record } = this.#deps;
    const identityKey = engine.identityKey;
    const signature = engine.sign(linkRequestSignedMessage(session.welcome.challenge, link.account, identityKey));
    const pending = await session.request({
      type: 'link_request',
      account: link.account,
      deviceName: record.deviceName,
      identityKey,
      signedPreKey: link.upload.signedPreKey!,
      pqPreKey: link.upload.pqLastResortPreKey!,
      mac: link.mac,
      signature,
    });
    link.linkId = pending.linkId;
    const approved = await this.#approval(link, session, pending.expiresAt);
    const { plaintext } = await engine.decrypt(PROVISIONING_ADDRESS, approved.provisioning);
    engine.dropSession(PROVISIONING_ADDRESS);
    const provisioning = decodeProvisioning(plaintext);
    const accountIdentity = IdentityKeyPair.deserialize(fromBase64(provisioning.accountIdentity));
    const list = toWire(provisioning.deviceList);
    const refuse = (why: string) => new PulseError('DEVICE_LIST_INVALID', `the link was refused: ${why}`);
    if (provisioning.account !== link.account || approved.account !== link.account) throw refuse('another account');
    if (provisioning.deviceId !== approved.deviceId) throw refuse('device ids differ');
    const approval = fromBase64(provisioning.approval);
    if (!(await approvalMacMatches(link.code, link.account, accountIdentity.publicKey, approval))) {
      throw refuse('the approving device does not know the code');
    }
    if (!listSignedBy(link.account, accountIdentity.publicKey, list)) throw refuse('the device list is not signed');
    if (listedKey(provisioning.deviceList, approved.deviceId) !== toBase64(identityKey)) {
      throw refuse('the signed list does not hold this device');
    }
    record.account = link.account;
    record.deviceId = approved.deviceId;
    record.server = this.#deps.server;
    this.#deps.own.adopt(accountIdentity, list);
    this.#deps.shared.adopt({ contacts: provisioning.contacts, groups: provisioning.groups });
    await this.#deps.persist();
  }

  /** Waits for `link_approved` while the connection lasts, at most until the link expires. */
  #approval(link: PendingLink, session: HandshakeSession, expiresAt: number): Promise<FrameOf<'link_approved'>> {
    return new Promise((resolve, reject) => {
      const waitMs = Math.min(this.#deps.limits.linkTimeoutMs, Math.max(0, expiresAt - Date.now()));
      const timer = setTimeout(
        () => reject(new PulseError('TIMEOUT', 'no device of the account approved the link in time')),
        waitMs,
      );
      link.approved = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      session.closed.catch((error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  // ---- a device of the account approves ------------------------------------------------------

  /** Devices asking to join this account, not yet approved. */
  async requests(): Promise<LinkRequest[]> {
    const answer = await this.#deps.connection.request({ type: 'link_list' });
    return answer.requests.map(({ linkId, deviceId, deviceName, requestedAt, expiresAt }) => ({
      linkId,
      deviceId,
      deviceName,
      requestedAt,
      expiresAt,
    }));
  }

  /**
   * Approves the device showing `code`: signs a new device list with it, and
   * sends it the account identity (and what this device knows) in a
   * provisioning message only it can decrypt. LINK_CODE_MISMATCH when no
   * pending request was made with that code.
   */
  async approve(account: string, code: string): Promise<ListedDevice> {
    const { own, engine, connection } = this.#deps;
    const identity = own.identity();
    await own.refresh();
    const { requests } = await connection.request({ type: 'link_list' });
    let request: FrameOf<'links'>['requests'][number] | undefined;
    for (const candidate of requests) {
      if (await requestMacMatches(code, { account, ...candidate })) request = candidate;
    }
    if (request === undefined) {
      throw new PulseError('LINK_CODE_MISMATCH', `no device is asking to join ${account} with code ${code}`);
    }
    const proposed = request;
    const taken = own.current().devices;
    if (taken.some((d) => d.deviceId >= proposed.deviceId || d.identityKey === toBase64(proposed.identityKey))) {
      throw new PulseError('DEVICE_LIST_INVALID', `the server proposed device id ${proposed.deviceId}, already in use`);
    }
    const added = {
      deviceId: proposed.deviceId,
      identityKey: proposed.identityKey,
      name: proposed.deviceName,
      addedAt: Date.now(),
    };
    const signed = own.signNext((devices) => [...devices, added]);
    const provisioning = encodeProvisioning({
      account,
      deviceId: added.deviceId,
      accountIdentity: own.serializedIdentity,
      deviceList: toStored(signed),
      approval: toBase64(await approvalMac(code, account, identity.publicKey)),
      ...this.#deps.shared.export(),
    });
    // A one-off PQXDH session to the request's prekeys (their signatures by its identity key are checked).
    await engine.startSession(PROVISIONING_ADDRESS, {
      deviceId: proposed.deviceId,
      identityKey: proposed.identityKey,
      signedPreKey: proposed.signedPreKey,
      pqPreKey: proposed.pqPreKey,
      pqPreKeyIsLastResort: true,
    });
    let ciphertext: Uint8Array;
    try {
      ciphertext = await engine.encrypt(PROVISIONING_ADDRESS, provisioning);
    } finally {
      engine.dropSession(PROVISIONING_ADDRESS);
    }
    await connection.request({
      type: 'device_list_update',
      deviceList: signed,
      link: { linkId: proposed.linkId, provisioning: ciphertext },
    });
    own.accept(signed);
    await this.#deps.persist();
    return { deviceId: added.deviceId, name: added.name, addedAt: added.addedAt };
  }
}
