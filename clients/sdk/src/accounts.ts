import { deviceLinkSignedMessage } from '@pulse/proto';
import type { PulseConnection } from './connection/connection.ts';
import { Authenticator, type HandshakeSession } from './connection/handshake.ts';
import type { RequestFrame } from './connection/requests.ts';
import type { E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import type { AccountRecord } from './profile.ts';

export interface DeviceInfo {
  readonly deviceId: number;
  readonly name: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly current: boolean;
}

/** The server a client uses when neither the caller nor the profile names one (`npm start`'s default). */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** The server to talk to: the one asked for, else the one the profile registered with, else DEFAULT_SERVER. */
export function serverFor(record: AccountRecord, requested: string | undefined): string {
  return requested ?? record.server ?? DEFAULT_SERVER;
}

export interface AccountsDeps {
  /** This device's part of the profile (owned here). */
  readonly record: AccountRecord;
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly limits: ClientLimits;
  /** The server this client talks to (stored in the profile at registration). */
  readonly server: string;
  readonly persist: () => Promise<void>;
}

/**
 * This device's account: registration, authentication on every (re)connect
 * (handshake.ts), linking and removing devices, prekey uploads, and the list of
 * this account's devices. Owns the profile's account record.
 */
export class Accounts {
  readonly #record: AccountRecord;
  readonly #engine: E2EEngine;
  readonly #connection: PulseConnection;
  readonly #limits: ClientLimits;
  readonly #server: string;
  readonly #persist: () => Promise<void>;
  readonly #authenticator: Authenticator;
  #challenge: Uint8Array | undefined;
  #ownDevices: number[] = [];
  #pendingRegistration: string | undefined;

  constructor(deps: AccountsDeps) {
    this.#record = deps.record;
    this.#engine = deps.engine;
    this.#connection = deps.connection;
    this.#limits = deps.limits;
    this.#server = deps.server;
    this.#persist = deps.persist;
    this.#authenticator = new Authenticator(deps.engine);
  }

  get account(): string | undefined {
    return this.#record.account;
  }

  get deviceId(): number | undefined {
    return this.#record.deviceId;
  }

  /** This account's devices, as of the last device list. */
  get ownDevices(): number[] {
    return this.#ownDevices;
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

  /** Connects and authenticates an already registered profile. */
  async connect(): Promise<void> {
    if (this.#record.account === undefined)
      throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    await this.#connection.connect();
  }

  /** Creates the account with this device as device 1, then uploads prekeys. */
  async register(account: string): Promise<void> {
    const current = this.#record.account;
    if (current !== undefined) {
      throw new PulseError('ALREADY_REGISTERED', `this profile is already registered as ${current}`);
    }
    if (!/^[a-z0-9][a-z0-9._-]{2,31}$/.test(account)) {
      throw new PulseError('BAD_INPUT', 'account names are 3-32 characters: a-z, 0-9, dot, dash, underscore');
    }
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
   * Links `newDevice` (a fresh profile in this process) as another device of this
   * account: the new device signs this connection's challenge, proving it holds its key.
   * `handOver` gives the new device what this one knows (contacts, groups) before it is saved.
   */
  async linkDevice(newDevice: Accounts, deviceName: string, handOver: () => void): Promise<number> {
    const account = this.requireAccount();
    if (newDevice.#record.account !== undefined)
      throw new PulseError('ALREADY_REGISTERED', 'that profile already has an account');
    await this.#connection.connect();
    const challenge = this.#challenge!;
    const identityKey = newDevice.#engine.identityKey;
    const signature = newDevice.#engine.sign(deviceLinkSignedMessage(challenge, account, identityKey));
    const answer = await this.#connection.request({
      type: 'device_link',
      deviceName,
      identityKey,
      signature,
    });
    newDevice.#record.account = account;
    newDevice.#record.deviceId = answer.deviceId;
    newDevice.#record.server = this.#record.server;
    newDevice.#record.deviceName = deviceName;
    handOver();
    await newDevice.#persist();
    await newDevice.connect();
    await newDevice.uploadPreKeys(true);
    await this.refreshOwnDevices();
    return answer.deviceId;
  }

  async devices(): Promise<DeviceInfo[]> {
    this.requireAccount();
    const answer = await this.#connection.request({ type: 'device_list' });
    return answer.devices.map((d) => ({
      deviceId: d.deviceId,
      name: d.deviceName,
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      current: d.deviceId === this.#record.deviceId,
    }));
  }

  async removeDevice(deviceId: number): Promise<void> {
    await this.#connection.request({ type: 'device_remove', deviceId });
    await this.refreshOwnDevices();
  }

  /**
   * On every (re)connect, before anything else is sent: registers (when a
   * registration is pending) or authenticates, then fetches this account's devices.
   */
  async onReady(session: HandshakeSession): Promise<void> {
    this.#challenge = session.welcome.challenge;
    const record = this.#record;
    if (record.account === undefined) {
      const account = this.#pendingRegistration;
      if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
      const ok = await this.#authenticator.register(session, account, record.deviceName);
      this.#pendingRegistration = undefined;
      record.account = ok.account;
      record.deviceId = ok.deviceId;
      record.server = this.#server;
      await this.#persist();
      await this.uploadPreKeys(true, session);
    } else {
      await this.#authenticator.authenticate(session, record.account, record.deviceId!);
    }
    const devices = await session.request({ type: 'device_list' });
    this.#ownDevices = devices.devices.map((d) => d.deviceId);
  }

  async uploadPreKeys(rotate: boolean, session?: HandshakeSession): Promise<void> {
    const upload = await this.#engine.generatePreKeys(this.#limits.preKeyBatch, rotate);
    await this.#persist();
    const frame: RequestFrame<'prekeys_upload'> = { type: 'prekeys_upload', ...upload };
    if (session !== undefined) await session.request(frame);
    else await this.#connection.request(frame);
  }

  async refreshOwnDevices(): Promise<void> {
    const answer = await this.#connection.request({ type: 'device_list' });
    this.#ownDevices = answer.devices.map((d) => d.deviceId);
  }
}
