import { authSignedMessage, deviceLinkSignedMessage, registerSignedMessage } from '@pulse/proto';
import type { HandshakeSession, PulseConnection, RequestFrame } from './connection.ts';
import type { E2EEngine } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import type { ClientLimits } from './limits.ts';
import type { Profile } from './profile.ts';

export interface DeviceInfo {
  readonly deviceId: number;
  readonly name: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly current: boolean;
}

export interface AccountsDeps {
  readonly profile: Profile;
  readonly engine: E2EEngine;
  readonly connection: PulseConnection;
  readonly limits: ClientLimits;
  /** The server this client talks to (stored in the profile at registration). */
  readonly server: string;
  readonly persist: () => Promise<void>;
}

/**
 * This device's account: registration, authentication on every (re)connect (token
 * first, else a signed challenge), linking and removing devices, prekey uploads,
 * and the list of this account's devices.
 */
export class Accounts {
  readonly #profile: Profile;
  readonly #engine: E2EEngine;
  readonly #connection: PulseConnection;
  readonly #limits: ClientLimits;
  readonly #server: string;
  readonly #persist: () => Promise<void>;
  #challenge: Uint8Array | undefined;
  #token: { token: Uint8Array; expiresAt: number } | undefined;
  #ownDevices: number[] = [];
  #pendingRegistration: string | undefined;

  constructor(deps: AccountsDeps) {
    this.#profile = deps.profile;
    this.#engine = deps.engine;
    this.#connection = deps.connection;
    this.#limits = deps.limits;
    this.#server = deps.server;
    this.#persist = deps.persist;
  }

  /** This account's devices, as of the last device list. */
  get ownDevices(): number[] {
    return this.#ownDevices;
  }

  requireAccount(): string {
    const account = this.#profile.state.account;
    if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    return account;
  }

  /** Connects and authenticates an already registered profile. */
  async connect(): Promise<void> {
    if (this.#profile.state.account === undefined)
      throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
    await this.#connection.connect();
  }

  /** Creates the account with this device as device 1, then uploads prekeys. */
  async register(account: string): Promise<void> {
    const current = this.#profile.state.account;
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
   */
  async linkDevice(newDevice: Accounts, deviceName: string): Promise<number> {
    const account = this.requireAccount();
    if (newDevice.#profile.state.account !== undefined)
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
    newDevice.#profile.state.account = account;
    newDevice.#profile.state.deviceId = answer.deviceId;
    newDevice.#profile.state.server = this.#profile.state.server;
    newDevice.#profile.state.deviceName = deviceName;
    // The new device starts with what this one knows (filled in place: its helpers hold these objects).
    Object.assign(newDevice.#profile.state.groups, structuredClone(this.#profile.state.groups));
    for (const group of Object.values(newDevice.#profile.state.groups)) group.distributedTo = [];
    Object.assign(newDevice.#profile.state.contacts, structuredClone(this.#profile.state.contacts));
    await newDevice.#profile.save();
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
      current: d.deviceId === this.#profile.state.deviceId,
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
    const state = this.#profile.state;
    if (state.account === undefined) {
      const account = this.#pendingRegistration;
      if (account === undefined) throw new PulseError('NOT_REGISTERED', 'this profile has no account: register first');
      const identityKey = this.#engine.identityKey;
      const signature = this.#engine.sign(registerSignedMessage(this.#challenge, account, identityKey));
      const ok = await session.request({
        type: 'register',
        account,
        deviceName: state.deviceName,
        identityKey,
        signature,
      });
      this.#pendingRegistration = undefined;
      state.account = ok.account;
      state.deviceId = ok.deviceId;
      state.server = this.#server;
      this.#token = { token: ok.token, expiresAt: ok.tokenExpiresAt };
      await this.#persist();
      await this.uploadPreKeys(true, session);
    } else {
      await this.#authenticate(session, state.account, state.deviceId!);
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

  async #authenticate(session: HandshakeSession, account: string, deviceId: number): Promise<void> {
    const token = this.#token;
    if (token !== undefined && token.expiresAt > Date.now() + 60_000) {
      try {
        const ok = await session.request({ type: 'auth_token', token: token.token });
        this.#token = { token: ok.token, expiresAt: ok.tokenExpiresAt };
        return;
      } catch (error) {
        if (!PulseError.is(error, 'AUTH_FAILED')) throw error;
        this.#token = undefined;
      }
    }
    const signature = this.#engine.sign(authSignedMessage(session.welcome.challenge, account, deviceId));
    const ok = await session.request({ type: 'auth', account, deviceId, signature });
    this.#token = { token: ok.token, expiresAt: ok.tokenExpiresAt };
  }
}
