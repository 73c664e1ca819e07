import { Accounts, type DeviceInfo } from './accounts.ts';
import { fromBase64 } from './base64.ts';
import { type ConnectionStatus, type HandshakeSession, PulseConnection, type PushFrame } from './connection.ts';
import { type Content, randomId } from './content.ts';
import type { E2EEngine, E2EEngineFactory } from './e2e/engine.ts';
import { PulseError } from './errors.ts';
import { type ClientEvents, Emitter, type Listener } from './events.ts';
import { Groups } from './groups.ts';
import { Inbox } from './inbox.ts';
import { type ClientLimits, clientLimits } from './limits.ts';
import { Outbox } from './outbox.ts';
import { Channels } from './presence.ts';
import { type GroupRecord, Profile, rememberMessage, type StoredMessage } from './profile.ts';
import type { StateVault } from './store/vault.ts';
import type { TransportMemory } from './transport/negotiate.ts';
import type { TransportFactories, TransportPreference } from './transport/types.ts';
import { TrustBook } from './trust.ts';

export interface PulseClientOptions {
  /**
   * The server's base URL, e.g. `http://127.0.0.1:8080`. Stored in the profile at
   * registration; when omitted, the stored one (else DEFAULT_SERVER) is used.
   */
  readonly server?: string;
  readonly vault: StateVault;
  readonly engine: E2EEngineFactory;
  readonly factories: TransportFactories;
  readonly transport?: TransportPreference;
  readonly limits?: Partial<ClientLimits>;
  /** Sent in `hello` (e.g. `pulse-chat/0.1`). */
  readonly clientName?: string;
  /** This device's name, shown in device lists. */
  readonly deviceName?: string;
  /** Subscribe to presence channels (interactive clients); scripts leave it off. */
  readonly presence?: boolean;
}

export interface SafetyNumber {
  readonly account: string;
  /** 60 digits in groups of five (libsignal's displayable fingerprint), one per device. */
  readonly numbers: readonly { deviceId: number; number: string }[];
  readonly verified: boolean;
  /** Devices whose identity key changed since it was first seen. */
  readonly changedDevices: readonly number[];
}

/** How long `close()` lets pending acknowledgements and receipts finish. */
const CLOSE_GRACE_MS = 2_000;

export type { DeviceInfo } from './accounts.ts';
export type { ClientEvents } from './events.ts';

/** The server a client uses when neither the caller nor the profile names one (`npm start`'s default). */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/**
 * A Pulse account on this device: connects (WebTransport first, WebSocket as
 * fallback), authenticates with the device's identity key, and sends and receives
 * end-to-end encrypted messages, 1:1 and in groups. Every secret stays in the
 * profile (sealed by the vault) and in the E2E engine; the server sees ciphertext.
 */
export class PulseClient {
  readonly limits: ClientLimits;
  readonly #options: PulseClientOptions;
  readonly #profile: Profile;
  readonly #engine: E2EEngine;
  readonly #connection: PulseConnection;
  readonly #events = new Emitter();
  readonly #channels: Channels;
  readonly #inbox: Inbox;
  /** Every operation that touches sessions or the profile runs alone, in call order. */
  #lock: Promise<unknown> = Promise.resolve();
  readonly #accounts: Accounts;
  readonly #trust: TrustBook;
  readonly #outbox: Outbox;
  readonly #groups: Groups;
  readonly #server: string;

  private constructor(options: PulseClientOptions, profile: Profile, engine: E2EEngine) {
    this.#options = options;
    this.#server = options.server ?? profile.state.server ?? DEFAULT_SERVER;
    this.limits = clientLimits(options.limits);
    this.#profile = profile;
    this.#engine = engine;
    const state = profile.state;
    const memory: TransportMemory = {
      get: (server) => state.transportMemory[server],
      set: (server, entry) => {
        state.transportMemory[server] = entry;
      },
    };
    this.#connection = new PulseConnection({
      server: this.#server,
      transport: options.transport ?? 'auto',
      factories: options.factories,
      limits: this.limits,
      clientName: options.clientName ?? 'pulse-sdk/0.1',
      memory,
      onReady: (session) => this.#onReady(session),
    });
    const persist = () => this.#persist();
    this.#accounts = new Accounts({
      profile,
      engine,
      connection: this.#connection,
      limits: this.limits,
      server: this.#server,
      persist,
    });
    this.#trust = new TrustBook(state.contacts, (account, deviceId) =>
      this.#emit('identity_changed', { account, deviceId }),
    );
    const self = () => ({ account: this.#requireAccount(), deviceId: state.deviceId! });
    const refreshOwnDevices = () => this.#accounts.refreshOwnDevices();
    this.#outbox = new Outbox({
      engine,
      connection: this.#connection,
      trust: this.#trust,
      self,
      ownDevices: () => this.#accounts.ownDevices,
      refreshOwnDevices,
      persist,
    });
    this.#groups = new Groups({
      engine,
      outbox: this.#outbox,
      trust: this.#trust,
      limits: this.limits,
      records: state.groups,
      self,
      refreshOwnDevices,
      persist,
    });
    this.#inbox = new Inbox({
      profile,
      engine,
      connection: this.#connection,
      trust: this.#trust,
      groups: this.#groups,
      limits: this.limits,
      emit: (event, value) => this.#emit(event, value),
      exclusive: (operation) => this.#exclusive(operation),
      persist,
      sendInBackground: (to, content) => this.#sendInBackground(to, content),
    });
    this.#channels = new Channels({ connection: this.#connection, emit: (event, value) => this.#emit(event, value) });
    this.#connection.onPush((frame) => this.#onPush(frame));
    this.#connection.onStatus((status) => this.#emit('status', status));
  }

  /** Opens the profile held by `vault` (creating a fresh identity when it is empty). */
  static async open(options: PulseClientOptions): Promise<PulseClient> {
    const profile = await Profile.open(options.vault, options.deviceName ?? 'device');
    const saved = profile.engineState();
    const engine = saved === undefined ? await options.engine.create() : await options.engine.restore(saved);
    profile.attachEngine(() => engine.exportState());
    const client = new PulseClient(options, profile, engine);
    if (saved === undefined) await profile.save();
    return client;
  }

  // ---- accessors --------------------------------------------------------------------

  get account(): string | undefined {
    return this.#profile.state.account;
  }

  get deviceId(): number | undefined {
    return this.#profile.state.deviceId;
  }

  get status(): ConnectionStatus {
    return this.#connection.status;
  }

  /** The server this client talks to. */
  get server(): string {
    return this.#server;
  }

  get identityKey(): Uint8Array {
    return this.#engine.identityKey;
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    return this.#events.on(event, listener);
  }

  /** Conversations with their last message, newest first. */
  conversations(): { id: string; title: string; last: StoredMessage | undefined }[] {
    const { conversations, groups } = this.#profile.state;
    const ids = new Set([...Object.keys(conversations), ...Object.keys(groups).map((g) => `group:${g}`)]);
    return [...ids]
      .map((id) => {
        const list = conversations[id] ?? [];
        const title = id.startsWith('group:') ? (groups[id.slice(6)]?.name ?? id) : id.slice(5);
        return { id, title, last: list[list.length - 1] };
      })
      .sort((a, b) => (b.last?.receivedAt ?? 0) - (a.last?.receivedAt ?? 0));
  }

  messages(conversation: string): readonly StoredMessage[] {
    return this.#profile.state.conversations[conversation] ?? [];
  }

  /**
   * Received messages not yet taken, oldest first, and forgets them as unread: what
   * `recv` prints, whichever earlier command happened to receive them.
   */
  async takeUnread(): Promise<StoredMessage[]> {
    const state = this.#profile.state;
    const out: StoredMessage[] = [];
    for (const key of state.unread) {
      const bar = key.indexOf('|');
      const found = state.conversations[key.slice(0, bar)]?.find((m) => m.id === key.slice(bar + 1));
      if (found !== undefined) out.push(found);
    }
    if (state.unread.length > 0) {
      state.unread = [];
      await this.#profile.save();
    }
    return out;
  }

  groups(): readonly GroupRecord[] {
    return Object.values(this.#profile.state.groups);
  }

  contacts(): readonly string[] {
    return Object.keys(this.#profile.state.contacts);
  }

  isOnline(account: string): boolean {
    return this.#channels.isOnline(account);
  }

  // ---- connection and account ---------------------------------------------------------

  /** Connects and authenticates an already registered profile. */
  async connect(): Promise<void> {
    await this.#accounts.connect();
  }

  /** Creates the account with this device as device 1, then uploads prekeys. */
  async register(account: string): Promise<void> {
    await this.#accounts.register(account);
  }

  /**
   * Links `newDevice` (a fresh profile in this process) as another device of this
   * account: the new device signs this connection's challenge, proving it holds its key.
   */
  async linkDevice(newDevice: PulseClient, deviceName: string): Promise<number> {
    return this.#accounts.linkDevice(newDevice.#accounts, deviceName);
  }

  async devices(): Promise<DeviceInfo[]> {
    return this.#accounts.devices();
  }

  async removeDevice(deviceId: number): Promise<void> {
    await this.#accounts.removeDevice(deviceId);
  }

  /**
   * Asks the server to deliver everything still pending and waits until it is
   * processed (decrypted, stored, acknowledged). Returns how many envelopes arrived.
   */
  async sync(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const answer = await this.#connection.request({ type: 'sync' });
      await this.#inbox.drained;
      total += answer.delivered;
      if (answer.delivered === 0) break;
    }
    return total;
  }

  /** Waits until every envelope received so far has been processed and its receipts sent. */
  async idle(): Promise<void> {
    await this.#inbox.idle();
  }

  /** Finishes what is in hand (briefly: acknowledgements and receipts), then closes the connection and the profile. */
  async close(): Promise<void> {
    if (this.status.state === 'connected') {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      await Promise.race([this.idle().catch(() => {}), grace]);
      clearTimeout(timer);
    }
    this.#connection.close();
    await this.#inbox.drained.catch(() => {});
    await this.#profile.close();
  }

  // ---- 1:1 messages -------------------------------------------------------------------

  /** Encrypts `text` for every device of `to` (and this account's other devices) and sends it. */
  async sendText(to: string, text: string): Promise<StoredMessage> {
    const { stored, content, answer } = await this.#exclusive(async () => {
      const account = this.#requireAccount();
      this.#checkText(text);
      if (to === account) throw new PulseError('BAD_INPUT', 'sending to yourself is not supported');
      const content: Content = { t: 'text', id: randomId(), text, sentAt: Date.now() };
      const { answer } = await this.#outbox.start(to, content);
      const stored: StoredMessage = {
        id: content.id,
        conversation: `user:${to}`,
        from: account,
        fromDevice: this.deviceId!,
        text,
        sentAt: content.sentAt,
        receivedAt: content.sentAt,
        direction: 'out',
        status: 'pending',
      };
      this.#remember(stored);
      await this.#persist();
      return { stored, content, answer };
    });
    try {
      await this.#settle(to, content, answer);
    } catch (error) {
      stored.status = 'failed';
      await this.#persist();
      throw error;
    }
    if (stored.status === 'pending') stored.status = 'sent';
    await this.#persist();
    if (this.#outbox.otherOwnDevices().length > 0) {
      await this.#exclusive(() => this.#outbox.sendToOwnDevices({ ...content, to }));
    }
    return stored;
  }

  /**
   * Waits for the answer to a pipelined send; when the recipient's devices
   * changed meanwhile, sends again to the current device list (under the lock).
   */
  async #settle(to: string, content: Content, answer: Promise<void>): Promise<void> {
    try {
      await answer;
    } catch (error) {
      if (!PulseError.is(error, 'DEVICES_MISMATCH')) throw error;
      await this.#exclusive(() => this.#outbox.send(to, content, true));
    }
  }

  /** A send that holds the lock only while encrypting, then settles on its own (receipts). */
  async #sendInBackground(to: string, content: Content): Promise<void> {
    const { answer } = await this.#exclusive(() => this.#outbox.start(to, content));
    await this.#settle(to, content, answer);
  }

  /** Tells `to` whether this user is typing (ephemeral: not stored on either side). */
  async setTyping(to: string, typing: boolean): Promise<void> {
    return this.#exclusive(async () => {
      if (to.startsWith('group:')) {
        const group = this.#groups.require(to.slice(6));
        await this.#groups.send(group, { t: 'typing', typing, group: group.id }).catch(() => {});
        return;
      }
      await this.#outbox.send(to, { t: 'typing', typing }).catch(() => {});
    });
  }

  // ---- trust --------------------------------------------------------------------------

  /** Safety numbers for `account` (fetching its keys when the profile has none yet). */
  async safetyNumber(account: string): Promise<SafetyNumber> {
    return this.#exclusive(async () => {
      const me = this.#requireAccount();
      if (this.#trust.knownDevices(account).length === 0) {
        await this.#outbox.fetchBundles(account).catch((error: unknown) => {
          if (!PulseError.is(error, 'IDENTITY_CHANGED')) throw error;
        });
      }
      const contact = this.#trust.get(account);
      if (contact === undefined) throw new PulseError('UNKNOWN_CONTACT', `no account ${account}`);
      const numbers = [];
      for (const [deviceId, key] of Object.entries(contact.devices)) {
        const current = contact.changed[deviceId] ?? key;
        numbers.push({
          deviceId: Number(deviceId),
          number: await this.#engine.safetyNumber(me, account, fromBase64(current)),
        });
      }
      return {
        account,
        numbers,
        verified: contact.verified,
        changedDevices: Object.keys(contact.changed).map(Number),
      };
    });
  }

  /** The user compared safety numbers: accept the current keys (including changed ones) and mark verified. */
  async markVerified(account: string): Promise<void> {
    return this.#exclusive(async () => {
      for (const deviceId of this.#trust.accept(account)) this.#engine.dropSession({ account, deviceId });
      await this.#persist();
    });
  }

  // ---- groups -------------------------------------------------------------------------

  /** Creates a group with `members` (accounts; this one is added) and tells each of them. */
  async createGroup(name: string, members: readonly string[]): Promise<GroupRecord> {
    return this.#changeGroup('created', () => this.#groups.create(name, members));
  }

  async addMember(groupId: string, account: string): Promise<GroupRecord> {
    return this.#changeGroup('updated', () => this.#groups.add(groupId, account));
  }

  /**
   * Removes `account`: the remaining members learn it, and every remaining
   * member (this device first) rotates its sender key, so the removed member
   * cannot read what follows.
   */
  async removeMember(groupId: string, account: string): Promise<GroupRecord> {
    return this.#changeGroup('updated', () => this.#groups.remove(groupId, account));
  }

  /** Runs a membership change under the client's lock, then tells listeners. */
  #changeGroup(change: 'created' | 'updated', apply: () => Promise<GroupRecord>): Promise<GroupRecord> {
    return this.#exclusive(async () => {
      const group = await apply();
      this.#emit('group', { group, change });
      return group;
    });
  }

  async sendGroupText(groupId: string, text: string): Promise<StoredMessage> {
    return this.#exclusive(async () => {
      const account = this.#requireAccount();
      this.#checkText(text);
      const group = this.#groups.require(groupId);
      const content: Content = { t: 'text', id: randomId(), text, sentAt: Date.now(), group: group.id };
      await this.#groups.send(group, content);
      const stored: StoredMessage = {
        id: content.id,
        conversation: `group:${group.id}`,
        from: account,
        fromDevice: this.deviceId!,
        text,
        sentAt: content.sentAt,
        receivedAt: content.sentAt,
        direction: 'out',
        status: 'sent',
        group: group.id,
      };
      this.#remember(stored);
      await this.#persist();
      return stored;
    });
  }

  /** Finds a group by id or (unique) name. */
  findGroup(idOrName: string): GroupRecord | undefined {
    return this.#groups.find(idOrName);
  }

  // ---- presence -----------------------------------------------------------------------

  /** Follows `account`'s presence (`presence` events). */
  async watchPresence(account: string): Promise<void> {
    await this.#channels.watchPresence(account, this.status.state === 'connected');
  }

  // ---- channels -------------------------------------------------------------------------

  /**
   * Subscribes to a pub/sub channel (server/README.md "Channel rules"); its
   * messages arrive as `channel` events and survive reconnects through replay
   * from the last offset. Payloads are opaque bytes: encrypting them is the
   * caller's business (Pulse's own chat uses envelopes, see README "Groups").
   */
  async subscribeChannel(channel: string): Promise<void> {
    await this.#channels.subscribe(channel);
  }

  async unsubscribeChannel(channel: string): Promise<void> {
    await this.#channels.unsubscribe(channel);
  }

  /** Publishes opaque bytes on a channel; resolves with the publication's offset. */
  async publish(channel: string, payload: Uint8Array): Promise<number> {
    return this.#channels.publish(channel, payload);
  }

  // ---- internals: connection lifecycle ----------------------------------------------------

  async #onReady(session: HandshakeSession): Promise<void> {
    await this.#accounts.onReady(session);
    await this.#channels.resume(session, this.#profile.state.account!, this.#options.presence === true);
  }

  // ---- internals: pushes (deliveries to the inbox; presence and publications to the channels)

  #onPush(frame: PushFrame): void {
    switch (frame.type) {
      case 'deliver':
        this.#inbox.deliver(frame);
        return;
      case 'prekeys_low':
        this.#inbox.enqueue(() => this.#accounts.uploadPreKeys(false));
        return;
      case 'presence_snapshot':
      case 'presence_join':
      case 'presence_leave':
        this.#channels.onPresence(frame);
        return;
      case 'channel_message':
        this.#channels.onChannelMessage(frame);
        return;
      case 'error':
        this.#emit('problem', { from: 'server', reason: `${frame.code}: ${frame.message}` });
        return;
    }
  }

  // ---- internals: helpers -------------------------------------------------------------------

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(operation);
    this.#lock = result.catch(() => {});
    return result;
  }

  #remember(message: StoredMessage): void {
    rememberMessage(this.#profile.state, message, this.limits.maxHistoryPerConversation);
  }

  async #persist(): Promise<void> {
    await this.#profile.save();
  }

  #requireAccount(): string {
    return this.#accounts.requireAccount();
  }

  #checkText(text: string): void {
    if (text.length === 0) throw new PulseError('BAD_INPUT', 'the message is empty');
    if (text.length > this.limits.maxTextLength) {
      throw new PulseError('BAD_INPUT', `the message is longer than ${this.limits.maxTextLength} characters`);
    }
  }

  #emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    this.#events.emit(event, value);
  }
}
