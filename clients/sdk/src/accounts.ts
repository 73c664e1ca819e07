import { IdentityKeyPair } from '@pulse/crypto';
import { type FrameOf, prekeysUploadSignedMessage } from '@pulse/proto';
import type { PulseConnection } from './connection/connection.ts';
import { Authenticator, type HandshakeSession } from './connection/handshake.ts';
import type { RequestFrame } from './connection/requests.ts';
import type { ListedDevice } from './device-lists.ts';
import { signDeviceList } from './device-lists.ts';
import type { DeviceAddress, E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { Emit } from './events.ts';
import type { ClientLimits } from './limits.ts';
import { Linking, type LinkRequest, type SharedState } from './linking.ts';
import { type DeviceInfo, OwnDevices } from './own-devices.ts';
import type { AccountRecord } from './profile.ts';
import type { AcceptedDevices } from './trust.ts';

export type { LinkRequest, SharedState } from './linking.ts';
export { PROVISIONING_ADDRESS } from './linking.ts';
export type { DeviceInfo } from './own-devices.ts';

/** The server a client uses when neither the caller nor the profile names one (`npm start`'s default). */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** The server to talk to: the one asked for, else the one the profile registered with, else DEFAULT_SERVER. */
export function serverFor(record: AccountRecord, requested: string | undefined): string {
  return requested ?? record.server ?? DEFAULT_SERVER;
}

export interface AccountsDeps {
  /** This device's part of the profile (owned here, with OwnDevices for the identity and list). */
  readonly record: AccountRecord;
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly limits: ClientLimits;
  /** The server this client talks to (stored in the profile at registration). */
  readonly server: string;
  readonly emit: Emit;
  /** What this device hands a device it approves, and how a linked device takes it. */
  readonly shared: { export(): SharedState; adopt(state: SharedState): void };
  /** Sessions with devices that left this account's list (or changed key) are dropped. */
  readonly dropSession: (address: DeviceAddress) => void;
  readonly persist: () => Promise<void>;
}

/**
 * This device's account: registration (with the account identity key and the
 * first signed device list), authentication on every (re)connect, linking by
 * approval on either side (linking.ts), this account's own signed device list
 * (own-devices.ts), and prekey uploads. Owns the profile's account record.
 */
export class Accounts {
  readonly #deps: AccountsDeps;
  readonly #record: AccountRecord;
  readonly #connection: PulseConnection;
  readonly #authenticator: Authenticator;
  readonly #own: OwnDevices;
  readonly #linking: Linking;
  #pendingRegistration: string | undefined;
  /** The challenge of the connection in use: prekey uploads are signed over it. */
  #challenge: Uint8Array | undefined;

  constructor(deps: AccountsDeps) {
    this.#deps = deps;
    this.#record = deps.record;
    this.#connection = deps.connection;
    this.#authenticator = new Authenticator(deps.engine);
    const { record, connection, emit, dropSession, engine, limits, server, shared, persist } = deps;
    this.#own = new OwnDevices({ record, connection, emit, dropSession });
    this.#linking = new Linking({ record, engine, connection, limits, server, own: this.#own, shared, persist });
  }

  get account(): string | undefined {
    return this.#record.account;
  }

  get deviceId(): number | undefined {
    return this.#record.deviceId;
  }

  /** This account's devices, as its signed list gives them. */
  get ownDevices(): number[] {
    return this.#own.ids;
  }

  /** The account identity public key (undefined before registration or linking). */
  get accountKey(): Uint8Array | undefined {
    return this.#own.accountKey;
  }

  requireAccount(): string {
    const account = this.#record.account;
    if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    return account;
  }

  /** This account and device; NOT_REGISTERED before registration. */
  self(): { account: string; deviceId: number } {
    return { account: this.requireAccount(), deviceId: this.#record.deviceId! };
  }

  /** The identity key this account's signed list gives one of its devices. */
  ownDeviceKey(deviceId: number): string | undefined {
    return this.#own.keyOf(deviceId);
  }

  /** Connects and authenticates an already registered profile. */
  async connect(): Promise<void> {
    if (this.#record.account === undefined)
      throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    await this.#connection.connect();
  }

  /** Creates the account with this device as device 1, then uploads prekeys. */
  async register(account: string): Promise<void> {
    this.#requireFresh();
    checkAccountName(account);
    this.#pendingRegistration = account;
    try {
      await this.#connection.connect();
    } catch (error) {
      this.#pendingRegistration = undefined;
      // No account, so nothing to reconnect to; another name may be tried.
      this.#connection.reset(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  /**
   * Asks to become a device of `account` (PROTOCOL.md "Linking"): shows the code
   * through `onCode`, then waits until a device of the account approves with it.
   * Resolves with this device's id once linked and authenticated.
   */
  async requestLink(account: string, onCode: (code: string) => void): Promise<number> {
    this.#requireFresh();
    checkAccountName(account);
    await this.#linking.request(account, onCode);
    return this.#record.deviceId!;
  }

  /** The server relayed an approval (push). */
  onLinkApproved(frame: FrameOf<'link_approved'>): void {
    this.#linking.onApproved(frame);
  }

  /** Devices asking to join this account, not yet approved. */
  async pendingLinks(): Promise<LinkRequest[]> {
    this.requireAccount();
    return this.#linking.requests();
  }

  /** Approves the device showing `code` (linking.ts). */
  async approveLink(code: string): Promise<ListedDevice> {
    return this.#linking.approve(this.requireAccount(), code);
  }

  /** This account's devices as its signed list gives them, with when each was last seen. */
  async devices(): Promise<DeviceInfo[]> {
    this.requireAccount();
    const answer = await this.#own.refresh();
    await this.#deps.persist();
    return this.#own.info(answer);
  }

  /** Removes a device: a new signed list without it (PROTOCOL.md "Devices"). */
  async removeDevice(deviceId: number): Promise<void> {
    this.requireAccount();
    await this.#own.remove(deviceId);
    await this.#deps.persist();
  }

  /** Fetches this account's list from the server and accepts it if this account signed it and it is not older. */
  async refreshOwnDevices(session?: HandshakeSession): Promise<void> {
    await this.#own.refresh(session);
  }

  /** Judges a list the server presented for this account (own-devices.ts). */
  presentOwn(accountKey: Uint8Array, signed: FrameOf<'devices'>['deviceList']): AcceptedDevices {
    return this.#own.present(accountKey, signed);
  }

  /**
   * On every (re)connect, before anything else is sent: registers (when a
   * registration is pending), links (when a link is pending) or authenticates,
   * then fetches this account's signed device list.
   */
  async onReady(session: HandshakeSession): Promise<void> {
    this.#challenge = session.welcome.challenge;
    const record = this.#record;
    if (record.account === undefined) {
      if (this.#linking.pending) {
        await this.#linking.complete(session);
        await this.#authenticator.authenticate(session, record.account!, record.deviceId!);
        await this.uploadPreKeys(true, session);
      } else {
        await this.#registerOnReady(session);
      }
    } else {
      await this.#authenticator.authenticate(session, record.account, record.deviceId!);
    }
    await this.#own.refresh(session);
    await this.#deps.persist();
  }

  async #registerOnReady(session: HandshakeSession): Promise<void> {
    const record = this.#record;
    const account = this.#pendingRegistration;
    if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    // The account identity: made here, shared later only with devices this one approves.
    const identity = IdentityKeyPair.generate();
    const identityKey = this.#deps.engine.identityKey;
    const first = { deviceId: 1, identityKey, name: record.deviceName, addedAt: Date.now() };
    const list = signDeviceList(account, 1, [first], identity);
    const ok = await this.#authenticator.register(session, account, record.deviceName, identity.publicKey, list);
    this.#pendingRegistration = undefined;
    record.account = ok.account;
    record.deviceId = ok.deviceId;
    record.server = this.#deps.server;
    this.#own.adopt(identity, list);
    await this.#deps.persist();
    await this.uploadPreKeys(true, session);
  }

  /** Uploads fresh prekeys with the proof the server asks for: a signature over this connection's challenge. */
  async uploadPreKeys(rotate: boolean, session?: HandshakeSession): Promise<void> {
    const { engine, limits, persist } = this.#deps;
    const { account, deviceId } = this.self();
    const upload = await engine.generatePreKeys(limits.preKeyBatch, rotate);
    await persist();
    const challenge = session?.welcome.challenge ?? this.#challenge!;
    const proof = engine.sign(prekeysUploadSignedMessage(challenge, account, deviceId));
    const frame: RequestFrame<'prekeys_upload'> = { type: 'prekeys_upload', proof, ...upload };
    if (session !== undefined) await session.request(frame);
    else await this.#connection.request(frame);
  }

  #requireFresh(): void {
    const current = this.#record.account;
    if (current !== undefined) {
      throw new PulseError('ALREADY_REGISTERED', `this profile is already registered as ${current}`);
    }
  }
}

function checkAccountName(account: string): void {
  if (!/^[a-z0-9][a-z0-9._-]{2,31}$/.test(account)) {
    throw new PulseError('BAD_INPUT', 'account names are 3-32 characters: a-z, 0-9, dot, dash, underscore');
  }
}
