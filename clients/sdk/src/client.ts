import { Accounts, type DeviceInfo, type LinkRequest, PROVISIONING_ADDRESS, serverFor } from './accounts.ts';
import { AnonymousConnection } from './anonymous-connection.ts';
import { toBase64 } from './base64.ts';
import {
  type ConnectionStatus,
  type HandshakeSession,
  PulseConnection,
  type PushFrame,
} from './connection/connection.ts';
import { ConversationId } from './conversation-id.ts';
import type { ListedDevice } from './device-lists.ts';
import { DirectMessages } from './direct-messages.ts';
import type { E2EEngine, E2EEngineFactory } from './e2e/engine.ts';
import type { ChannelPosition } from './encrypted-channels/control.ts';
import { EncryptedChannels } from './encrypted-channels/encrypted-channels.ts';
import { type EncryptedChannelRecord, EncryptedChannelRecords } from './encrypted-channels/record.ts';
import { EphemeralSender } from './ephemeral.ts';
import { PulseError } from './errors.ts';
import { type ClientEvents, type Emit, Emitter, type Listener } from './events.ts';
import { GroupMessages } from './group-messages.ts';
import { Groups } from './groups.ts';
import { History } from './history.ts';
import { Inbox } from './inbox.ts';
import { type ClientLimits, clientLimits } from './limits.ts';
import { Lock } from './lock.ts';
import { Outbox } from './outbox.ts';
import { Channels } from './presence.ts';
import { type GroupRecord, Profile, type StoredMessage, transportMemoryIn } from './profile.ts';
import { type SafetyNumber, SafetyNumbers } from './safety-numbers.ts';
import { SealedSender } from './sealed-sender.ts';
import type { StateVault } from './store/vault.ts';
import { serverInfo } from './transport/negotiate.ts';
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
  /**
   * Send sealed (PROTOCOL.md "Sealed sender") to contacts whose delivery token this
   * profile holds, so the server stores no sender (default true). Receiving sealed
   * envelopes works either way.
   */
  readonly sealedSender?: boolean;
  /**
   * Send sealed envelopes over a second connection that never authenticates
   * (PROTOCOL.md "Anonymous connections"), so the server does not learn which
   * account sent them (default true); false, or when it fails: over the
   * authenticated connection, still sealed.
   */
  readonly anonymousConnection?: boolean;
  /**
   * The server's sealed-sender trust root, known out of band (33 bytes): pinned
   * instead of the one `/pulse/info` publishes, e.g. over a direct transport,
   * which has no `/pulse/info`. Like a fetched one, it is pinned only when
   * nothing is pinned yet.
   */
  readonly sealedSenderTrustRoot?: Uint8Array;
}

/** How long `close()` lets pending acknowledgements and receipts finish. */
const CLOSE_GRACE_MS = 2_000;

export { DEFAULT_SERVER, type DeviceInfo, type LinkRequest } from './accounts.ts';
export type { ListedDevice } from './device-lists.ts';
export type { ChannelPosition } from './encrypted-channels/control.ts';
export { newEncryptedChannelName } from './encrypted-channels/encrypted-channels.ts';
export type { EncryptedChannelRecord } from './encrypted-channels/record.ts';
export type { ClientEvents } from './events.ts';
export type { SafetyNumber } from './safety-numbers.ts';

/**
 * A Pulse account on this device: connects (WebTransport first, WebSocket as
 * fallback), authenticates with the device's identity key, and sends and receives
 * end-to-end encrypted messages, 1:1 and in groups. Every secret stays in the
 * profile (sealed by the vault) and in the E2E engine; the server sees ciphertext.
 *
 * The facade: it wires the parts, each owning its part of the profile
 * (profile.ts), and delegates to them.
 */
export class PulseClient {
  readonly limits: ClientLimits;
  readonly #options: PulseClientOptions;
  readonly #profile: Profile;
  readonly #engine: E2EEngine;
  readonly #server: string;
  readonly #connection: PulseConnection;
  readonly #events = new Emitter();
  /** Every operation that touches sessions or the profile runs alone, in call order. */
  readonly #lock = new Lock();
  readonly #accounts: Accounts;
  readonly #trust: TrustBook;
  /** Typing indicators: end-to-end encrypted, never stored by the server (PROTOCOL.md "Ephemeral events"). */
  readonly #ephemeral: EphemeralSender;
  readonly #history: History;
  readonly #groups: Groups;
  readonly #direct: DirectMessages;
  readonly #groupMessages: GroupMessages;
  readonly #safetyNumbers: SafetyNumbers;
  readonly #inbox: Inbox;
  readonly #channels: Channels;
  readonly #encryptedChannels: EncryptedChannels;
  readonly #sealed: SealedSender;
  /** Sealed sends' own connection, never authenticated (anonymous-connection.ts); undefined when not used. */
  readonly #anonymous: AnonymousConnection | undefined;

  private constructor(options: PulseClientOptions, profile: Profile, engine: E2EEngine) {
    this.#options = options;
    this.limits = clientLimits(options.limits);
    this.#profile = profile;
    this.#engine = engine;
    const limits = this.limits;
    const lock = this.#lock;
    const persist = () => profile.save();
    const emit = this.#events.emit.bind(this.#events);
    // Each part gets its own part of the profile state, typed as only that part (profile.ts).
    const state = profile.state;
    this.#server = serverFor(state, options.server);
    const connection = new PulseConnection({
      server: this.#server,
      transport: options.transport ?? 'auto',
      factories: options.factories,
      limits,
      clientName: options.clientName ?? 'pulse-sdk/0.1',
      memory: transportMemoryIn(state),
      onReady: (session) => this.#onReady(session),
    });
    const trust = new TrustBook(state.contacts, {
      identityChanged: (account) => emit('identity_changed', { account }),
      deviceAdded: (account, device) => emit('device_added', { account, own: false, ...device }),
      deviceRemoved: (account, device) => emit('device_removed', { account, own: false, ...device }),
      listRefused: (account, error) =>
        emit('device_list_refused', { account, code: error.code, reason: error.message }),
    });
    const records = state.groups;
    let groups: Groups | undefined;
    const dropSession = (address: { account: string; deviceId: number }) => engine.dropSession(address);
    const accounts = new Accounts({
      record: state,
      engine,
      connection,
      limits,
      server: this.#server,
      emit,
      shared: {
        export: () => ({ contacts: trust.snapshot(), groups: groups?.snapshot() ?? {} }),
        adopt: (shared) => {
          trust.adopt(shared.contacts);
          groups?.adopt(shared.groups);
        },
      },
      dropSession,
      persist,
    });
    // Sessions are built and taken over only with identity keys the accepted signed lists give (README "Trust").
    engine.setIdentityTrust((address, identityKey) => {
      // The one-off provisioning session: its keys are vouched for by the link code (link-code.ts).
      if (address.account === PROVISIONING_ADDRESS.account) return true;
      const listed =
        address.account === accounts.account
          ? accounts.ownDeviceKey(address.deviceId)
          : trust.get(address.account)?.devices[String(address.deviceId)];
      return listed === toBase64(identityKey);
    });
    const self = () => accounts.self();
    const refreshOwnDevices = () => accounts.refreshOwnDevices();
    const history = new History(state, limits, persist);
    const ownDevices = () => accounts.ownDevices;
    const anonymous =
      options.sealedSender === false || options.anonymousConnection === false
        ? undefined
        : new AnonymousConnection({
            server: this.#server,
            transport: options.transport ?? 'auto',
            factories: options.factories,
            limits,
            clientName: options.clientName ?? 'pulse-sdk/0.1',
            memory: transportMemoryIn(state),
          });
    this.#anonymous = anonymous;
    const sealed = new SealedSender({
      state,
      engine,
      connection,
      anonymous,
      server: this.#server,
      enabled: options.sealedSender !== false,
      self,
      publishedTrustRoot: async () =>
        options.sealedSenderTrustRoot ??
        (await serverInfo(this.#server, options.factories, limits)).sealedSenderTrustRoot,
      now: () => Date.now(),
      problem: (reason) => emit('problem', { from: 'server', reason }),
      persist,
    });
    this.#sealed = sealed;
    const outbox = new Outbox({
      sealing: sealed,
      engine,
      connection,
      trust,
      self,
      ownDevices,
      refreshOwnDevices,
      presentList: (account, accountKey, signed) =>
        account === accounts.account
          ? accounts.presentOwn(accountKey, signed)
          : trust.present(account, accountKey, signed),
      untrusted: (account, deviceId) => emit('untrusted_device', { account, deviceId }),
      persist,
    });
    groups = new Groups({ engine, outbox, trust, limits, records, self, refreshOwnDevices, persist });
    // Publications on encrypted channels are decrypted in turn with deliveries (their sender
    // keys arrive as deliveries), under the lock; every other event goes out as it is.
    const channelEmit: Emit = (event, value) => {
      const message = value as ClientEvents['channel'];
      if (event === 'channel' && encryptedChannels.has(message.channel)) {
        this.#inbox.enqueue(() => encryptedChannels.receive(message));
        return;
      }
      emit(event, value);
    };
    const channels = new Channels({ connection, emit: channelEmit });
    const encryptedChannels = new EncryptedChannels({
      engine,
      outbox,
      trust,
      channels,
      records: new EncryptedChannelRecords(state),
      limits,
      self,
      persist,
      emit,
    });
    const direct = new DirectMessages({ outbox, history, lock, limits, self, persist });
    this.#connection = connection;
    this.#accounts = accounts;
    this.#trust = trust;
    this.#history = history;
    this.#groups = groups;
    this.#direct = direct;
    this.#groupMessages = new GroupMessages({ groups, history, lock, limits, self, persist });
    this.#ephemeral = new EphemeralSender({
      engine,
      knownDevices: (contact) => trust.knownDevices(contact),
      send: (frame) => connection.sendEphemeral(frame),
      self,
      persist,
    });
    const account = () => accounts.requireAccount();
    this.#safetyNumbers = new SafetyNumbers({
      trust,
      lock,
      account,
      accountKey: () => {
        const key = accounts.accountKey;
        if (key === undefined) throw new PulseError('NOT_REGISTERED', 'this profile holds no account identity');
        return key;
      },
      fetchList: (contact) => outbox.fetchList(contact),
      dropSession,
      persist,
    });
    this.#inbox = new Inbox({
      record: state,
      accounts,
      engine,
      connection,
      listedKey: (from, deviceId) =>
        from === accounts.account ? accounts.ownDeviceKey(deviceId) : trust.get(from)?.devices[String(deviceId)],
      refreshList: (from) => (from === accounts.account ? accounts.refreshOwnDevices() : outbox.fetchList(from)),
      groups,
      history,
      limits,
      emit,
      lock,
      persist,
      sealed,
      sendInBackground: (to, content) => direct.sendInBackground(to, content),
      channelControl: (from, content, later) => encryptedChannels.apply(from, content, later),
    });
    this.#channels = channels;
    this.#encryptedChannels = encryptedChannels;
    connection.onPush((frame) => this.#onPush(frame));
    connection.onStatus((status) => emit('status', status));
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
    return this.#accounts.account;
  }

  get deviceId(): number | undefined {
    return this.#accounts.deviceId;
  }

  get status(): ConnectionStatus {
    return this.#connection.status;
  }

  /** The server this client talks to. */
  get server(): string {
    return this.#server;
  }

  /** This device's identity key (its sessions are built with it). */
  get identityKey(): Uint8Array {
    return this.#engine.identityKey;
  }

  /** This account's identity key, which signs its device list (undefined before registration or linking). */
  get accountKey(): Uint8Array | undefined {
    return this.#accounts.accountKey;
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Conversations with their last message, newest first: every conversation
   * with history, and every group. `id` is the conversation's key
   * (conversation-id.ts: `user:<account>` or `group:<groupId>`).
   */
  conversations(): { id: string; title: string; last: StoredMessage | undefined }[] {
    const groupKeys = this.#groups.all().map((group) => ConversationId.key(ConversationId.group(group.id)));
    return [...new Set([...this.#history.keys(), ...groupKeys])]
      .map((id) => ({ id, title: this.#titleOf(id), last: this.#history.messages(id).at(-1) }))
      .sort((a, b) => (b.last?.receivedAt ?? 0) - (a.last?.receivedAt ?? 0));
  }

  /** The stored messages of a conversation (a ConversationId, or its key), oldest first. */
  messages(conversation: ConversationId | string): readonly StoredMessage[] {
    return this.#history.messages(conversation);
  }

  /**
   * Received messages not yet taken, oldest first, and forgets them as unread: what
   * `recv` prints, whichever earlier command happened to receive them.
   */
  async takeUnread(): Promise<StoredMessage[]> {
    return this.#history.takeUnread();
  }

  groups(): readonly GroupRecord[] {
    return this.#groups.all();
  }

  contacts(): readonly string[] {
    return this.#trust.accounts();
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
   * Asks to become another device of `account` (PROTOCOL.md "Linking"): `onCode`
   * gets the code to show; the user types it into a device of the account
   * (`approveLink`). Resolves with this device's id once approved and connected.
   */
  async requestLink(account: string, onCode: (code: string) => void): Promise<number> {
    return this.#accounts.requestLink(account, onCode);
  }

  /** Devices asking to join this account (the `link_request` event announces each). */
  async pendingLinks(): Promise<LinkRequest[]> {
    return this.#accounts.pendingLinks();
  }

  /**
   * Approves the device showing `code`: signs a new device list with it and
   * sends it the account identity, contacts and groups, encrypted to it alone.
   */
  async approveLink(code: string): Promise<ListedDevice> {
    return this.#lock.run(() => this.#accounts.approveLink(code));
  }

  /**
   * Links `newDevice` (a fresh profile in this process) as another device of this
   * account, through the same approval flow as two separate devices: it asks,
   * this device approves with the code it shows.
   */
  async linkDevice(newDevice: PulseClient, deviceName: string): Promise<number> {
    const account = this.#accounts.requireAccount();
    newDevice.#profile.state.deviceName = deviceName;
    let shown: (code: string) => void = () => {};
    const code = new Promise<string>((resolve) => {
      shown = resolve;
    });
    const linked = newDevice.requestLink(account, shown);
    const approved = code.then(async (typed) => {
      await this.#waitForLinkRequest();
      return this.approveLink(typed);
    });
    const [deviceId] = await Promise.all([linked, approved]);
    return deviceId;
  }

  /** Resolves once a link request is pending for this account (announced by the server, or listed). */
  async #waitForLinkRequest(): Promise<void> {
    while ((await this.#accounts.pendingLinks()).length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 250);
        const off = this.on('link_request', done);
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    }
  }

  /** This account's devices, as its signed device list gives them (sessions with removed ones are dropped). */
  async devices(): Promise<DeviceInfo[]> {
    return this.#lock.run(() => this.#accounts.devices());
  }

  /** Removes a device from this account: signs a device list without it. */
  async removeDevice(deviceId: number): Promise<void> {
    await this.#lock.run(() => this.#accounts.removeDevice(deviceId));
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
    this.#anonymous?.close();
    await this.#inbox.drained.catch(() => {});
    await this.#profile.close();
  }

  // ---- messages -------------------------------------------------------------------------

  /** Encrypts `text` for every device of `to` (and this account's other devices) and sends it. */
  async sendText(to: string, text: string): Promise<StoredMessage> {
    return this.#direct.sendText(to, text);
  }

  async sendGroupText(groupId: string, text: string): Promise<StoredMessage> {
    return this.#groupMessages.sendText(groupId, text);
  }

  /**
   * Tells `to` whether this user is typing: an ephemeral event (PROTOCOL.md
   * "Ephemeral events"), end-to-end encrypted, in a WebTransport datagram when
   * the connection has them, stored by neither the server nor this profile, and
   * lost when the recipient is offline or the connection is down (a lost
   * indicator is not worth an error). Only devices this profile already has a
   * session with (in a group: that hold its sender key) get it.
   * `to` is a ConversationId, an account, or a group's conversation key
   * (`group:<id>`); UNKNOWN_GROUP for a group this profile lacks.
   */
  async setTyping(to: ConversationId | string, typing: boolean): Promise<void> {
    const target = typeof to === 'string' ? typingTarget(to) : to;
    return this.#lock.run(async () => {
      if (target.kind === 'user') {
        await this.#ephemeral.toAccount(target.account, { t: 'typing', typing }).catch(() => {});
        return;
      }
      const group = this.#groups.require(target.groupId);
      await this.#ephemeral.toGroup(group, { t: 'typing', typing, group: group.id }).catch(() => {});
    });
  }

  // ---- trust --------------------------------------------------------------------------

  /** Safety numbers for `account` (fetching its keys when the profile has none yet). */
  async safetyNumber(account: string): Promise<SafetyNumber> {
    return this.#safetyNumbers.of(account);
  }

  /** The user compared safety numbers: accept the current keys (including changed ones) and mark verified. */
  async markVerified(account: string): Promise<void> {
    return this.#safetyNumbers.markVerified(account);
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

  /** Finds a group by id or (unique) name. */
  findGroup(idOrName: string): GroupRecord | undefined {
    return this.#groups.find(idOrName);
  }

  /** Runs a membership change under the client's lock, then tells listeners. */
  #changeGroup(change: 'created' | 'updated', apply: () => Promise<GroupRecord>): Promise<GroupRecord> {
    return this.#lock.run(async () => {
      const group = await apply();
      this.#events.emit('group', { group, change });
      return group;
    });
  }

  // ---- presence and channels ------------------------------------------------------------

  /** Follows `account`'s presence (`presence` events). */
  async watchPresence(account: string): Promise<void> {
    await this.#channels.watchPresence(account, this.status.state === 'connected');
  }

  /**
   * Subscribes to a pub/sub channel (server/README.md "Channel rules"); its
   * messages arrive as `channel` events and survive reconnects through replay
   * from the last offset. `since`: replay what followed that position.
   *
   * `encrypted: true` (or a channel this profile holds as encrypted): an end-to-end
   * encrypted channel (clients/README.md "Encrypted channels"), created with this
   * account as its only member when new (`public:` names; `newEncryptedChannelName()`
   * makes a random one). `channel` events then carry the decrypted plaintext, and
   * what this device may not read arrives as `channel_unreadable`. Otherwise payloads
   * are opaque bytes and encrypting them is the caller's business.
   */
  async subscribeChannel(
    channel: string,
    options: { encrypted?: boolean; since?: ChannelPosition } = {},
  ): Promise<void> {
    if (options.encrypted === true || this.#encryptedChannels.has(channel)) {
      await this.#lock.run(() => this.#encryptedChannels.subscribe(channel, options.since));
      return;
    }
    await this.#channels.subscribe(channel, options.since);
  }

  async unsubscribeChannel(channel: string): Promise<void> {
    await this.#channels.unsubscribe(channel);
  }

  /**
   * Publishes on a channel; resolves with the publication's offset. On an encrypted
   * channel the payload is encrypted with this device's sender key first (and always:
   * a channel held as encrypted never gets a plaintext); `encrypted: true` on a
   * channel this profile does not hold as encrypted fails with NOT_A_MEMBER.
   */
  async publish(channel: string, payload: Uint8Array, options: { encrypted?: boolean } = {}): Promise<number> {
    if (options.encrypted === true || this.#encryptedChannels.has(channel)) {
      return this.#lock.run(() => this.#encryptedChannels.publish(channel, payload));
    }
    return this.#channels.publish(channel, payload);
  }

  /** Adds `account` to an encrypted channel: it gets the members' keys from here on and reads from this point. */
  async addChannelMember(channel: string, account: string): Promise<EncryptedChannelRecord> {
    return this.#lock.run(() => this.#encryptedChannels.add(channel, account));
  }

  /**
   * Removes `account` from an encrypted channel: every remaining member rotates its
   * sender key, so the removed member cannot read what follows.
   */
  async removeChannelMember(channel: string, account: string): Promise<EncryptedChannelRecord> {
    return this.#lock.run(() => this.#encryptedChannels.remove(channel, account));
  }

  /** An encrypted channel this profile holds (its members, whether this account left). */
  encryptedChannel(channel: string): EncryptedChannelRecord | undefined {
    return this.#encryptedChannels.get(channel);
  }

  // ---- internals ------------------------------------------------------------------------

  /** Every (re)connection: authentication first, then the channel subscriptions resume. */
  async #onReady(session: HandshakeSession): Promise<void> {
    await this.#accounts.onReady(session);
    // Sealed sender is an improvement, never a condition: without it, sends go plain.
    await this.#sealed
      .onReady(session)
      .catch((error: unknown) =>
        this.#events.emit('problem', { from: 'server', reason: `sealed sender: ${(error as Error).message}` }),
      );
    await this.#channels.resume(session, this.#accounts.account!, this.#options.presence === true);
  }

  /** Deliveries go to the inbox; presence and publications to the channels. */
  #onPush(frame: PushFrame): void {
    switch (frame.type) {
      case 'deliver':
        this.#inbox.deliver(frame);
        return;
      case 'prekeys_low':
        this.#inbox.enqueue(() => this.#accounts.uploadPreKeys(false));
        return;
      case 'device_list_changed':
        this.#inbox.enqueue(async () => {
          await this.#accounts.refreshOwnDevices();
          await this.#profile.save();
        });
        return;
      case 'link_requested': {
        const { linkId, deviceId, deviceName, requestedAt } = frame;
        this.#events.emit('link_request', { linkId, deviceId, deviceName, requestedAt });
        return;
      }
      case 'link_approved':
        this.#accounts.onLinkApproved(frame);
        return;
      case 'ephemeral':
        this.#inbox.ephemeral(frame);
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
        this.#events.emit('problem', { from: 'server', reason: `${frame.code}: ${frame.message}` });
        return;
    }
  }

  /** A conversation's title: the account, or the group's name. */
  #titleOf(key: string): string {
    const conversation = ConversationId.parse(key);
    if (conversation === undefined) return key;
    if (conversation.kind === 'user') return conversation.account;
    return this.#groups.byId(conversation.groupId)?.name ?? key;
  }
}

/**
 * `setTyping`'s string form: `group:<id>` names a group (an unknown or empty id is
 * refused with UNKNOWN_GROUP by the group path), anything else an account.
 */
function typingTarget(to: string): ConversationId {
  return to.startsWith('group:') ? ConversationId.group(to.slice('group:'.length)) : ConversationId.user(to);
}
