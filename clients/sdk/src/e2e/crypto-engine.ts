import {
  deserializePreKeyUse,
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  IdentityKeyPair,
  InMemoryPrekeyStore,
  OneTimePreKey,
  PqPreKey,
  SenderCertificate,
  SenderKeyRecord,
  SessionRecord,
  SignedPreKey,
  safetyNumber,
  sealedSenderDecrypt,
  sealedSenderEncrypt,
  serializePreKeyUse,
  UnidentifiedSenderMessageContent,
  VerifiedCertificates,
} from '@pulse/crypto';
import { fromBase64, toBase64 } from '../base64.ts';
import { PulseError } from '../errors.ts';
import {
  addressKey,
  type DeviceAddress,
  type DeviceBundle,
  type E2EEngine,
  type E2EEngineFactory,
  type E2EEngineOptions,
  type IsTrustedIdentity,
  type PreKeyUpload,
  type SealedContent,
  type UnsealContext,
  type UnsealedEnvelope,
} from './engine.ts';

/**
 * Signed prekeys, and last-resort PQ prekeys, kept after rotation, so initial messages already
 * in flight still decrypt. Replay records (`usedPreKeys`) live exactly as long as the keys they name.
 */
const KEPT_SIGNED_PREKEYS = 3;
const KEPT_LAST_RESORT_PQ_PREKEYS = 3;

/**
 * Serialized engine state (JSON; every key and session record as its @pulse/crypto serialization, base64).
 * v1 stored one `Session` per device; v2 stores a `SessionRecord` (v1 is read and wrapped, see `#restore`);
 * v3 replaces v2's bare `baseKeys` (a 2,000-entry FIFO) by `usedPreKeys`, each naming the signed and PQ
 * prekey it used, forgotten when they rotate (as libsignal does).
 */
interface EngineState {
  v: 1 | 2 | 3;
  identity: string;
  nextPreKeyId: number;
  signed: string[];
  oneTime: string[];
  pq: string[];
  /** v1, v2: base keys of initial messages, without the prekeys they used. */
  baseKeys?: string[];
  /** v3: `serializePreKeyUse` of each initial message that used no one-time prekey. */
  usedPreKeys?: string[];
  /** `account.deviceId` → that device's session record (v1: a single session). */
  sessions: Record<string, string>;
  /** groupId → this device's sender key record. */
  ownSenderKeys: Record<string, string>;
  /** `groupId|account.deviceId` → a member's sender key record. */
  peerSenderKeys: Record<string, string>;
}

const UTF8 = new TextEncoder();

/** The prekey parts of EngineState, as exported. */
type PreKeyLists = Record<'signed' | 'oneTime' | 'pq' | 'usedPreKeys', string[]>;

/**
 * E2EEngine on @pulse/crypto's public API: PQXDH + Double Ratchet, a `SessionRecord` per
 * contact device. A record keeps archived sessions beside the current one, so when both
 * devices initiate at once (or one re-initiates) each message still decrypts with the
 * session it belongs to, and both sides converge on one (crypto/README.md "1:1 sessions").
 */
export class CryptoEngine implements E2EEngine {
  readonly #identity: IdentityKeyPair;
  /** The prekeys @pulse/crypto consults when this device answers an initial message. */
  readonly #preKeys = new InMemoryPrekeyStore();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #ownSenderKeys = new Map<string, SenderKeyRecord>();
  readonly #peerSenderKeys = new Map<string, SenderKeyRecord>();
  /** Contacts' sender certificates already verified (a day's messages share one): expiry is still checked each time. */
  readonly #verifiedCertificates = new VerifiedCertificates();
  /**
   * Prekeys and used-prekey entries never change once made: their base64 is computed once (the
   * state is saved per message).
   */
  readonly #base64 = new WeakMap<object, string>();
  /** The prekey lists of the last export and their JSON bytes (`#preKeysJson`). */
  #lastPreKeys: { lists: PreKeyLists; bytes: Uint8Array } | undefined;
  #nextPreKeyId = 1;
  #isTrustedIdentity: IsTrustedIdentity | undefined;

  private constructor(identity: IdentityKeyPair, options: E2EEngineOptions) {
    this.#identity = identity;
    this.#isTrustedIdentity = options.isTrustedIdentity;
  }

  /** `defaults` apply to every engine the factory makes; options given to create/restore override them. */
  static factory(defaults: E2EEngineOptions = {}): E2EEngineFactory {
    return {
      create: async (options = {}) => new CryptoEngine(IdentityKeyPair.generate(), { ...defaults, ...options }),
      restore: async (bytes, options = {}) => CryptoEngine.#restore(bytes, { ...defaults, ...options }),
    };
  }

  static #restore(bytes: Uint8Array, options: E2EEngineOptions): CryptoEngine {
    let state: EngineState;
    try {
      state = JSON.parse(new TextDecoder().decode(bytes)) as EngineState;
      if (state.v !== 1 && state.v !== 2 && state.v !== 3) throw new Error(`version ${String(state.v)}`);
    } catch (cause) {
      throw new PulseError('PROFILE_CORRUPT', 'the saved key state is not readable', { cause });
    }
    const engine = new CryptoEngine(IdentityKeyPair.deserialize(fromBase64(state.identity)), options);
    engine.#nextPreKeyId = state.nextPreKeyId;
    const preKeys = engine.#preKeys;
    for (const s of state.signed) preKeys.addSignedPreKey(SignedPreKey.deserialize(fromBase64(s)));
    preKeys.addOneTimePreKeys(state.oneTime.map((s) => OneTimePreKey.deserialize(fromBase64(s))));
    for (const s of state.pq) preKeys.addPqPreKey(PqPreKey.deserialize(fromBase64(s)));
    preKeys.addUsedPreKeys((state.usedPreKeys ?? []).map((s) => deserializePreKeyUse(fromBase64(s))));
    // v1/v2 base keys do not say which prekeys they used: tie them to the newest signed prekey held
    // now. It rotates out last, so by then every signed prekey they could have used is gone and a
    // replay fails for want of its key.
    const newestSigned = Math.max(...preKeys.signedPreKeys.keys());
    if (Number.isFinite(newestSigned)) {
      preKeys.addUsedPreKeys(
        (state.baseKeys ?? []).map((b) => ({
          signedPreKeyId: newestSigned,
          pqPreKeyId: undefined,
          baseKey: fromBase64(b),
        })),
      );
    }
    for (const [address, s] of Object.entries(state.sessions)) {
      const bytes = fromBase64(s);
      try {
        // v1 stored the session alone; it becomes the current (and only) session of a record.
        engine.#sessions.set(
          address,
          state.v === 1 ? SessionRecord.fromSerializedSession(bytes) : SessionRecord.deserialize(bytes),
        );
      } catch (cause) {
        throw new PulseError('PROFILE_CORRUPT', `the saved session with ${address} is not readable`, { cause });
      }
    }
    for (const [groupId, s] of Object.entries(state.ownSenderKeys ?? {})) {
      engine.#ownSenderKeys.set(groupId, SenderKeyRecord.deserialize(fromBase64(s)));
    }
    for (const [key, s] of Object.entries(state.peerSenderKeys ?? {})) {
      engine.#peerSenderKeys.set(key, SenderKeyRecord.deserialize(fromBase64(s)));
    }
    return engine;
  }

  get identityKey(): Uint8Array {
    return this.#identity.publicKey;
  }

  sign(message: Uint8Array): Uint8Array {
    return this.#identity.sign(message);
  }

  setIdentityTrust(check: IsTrustedIdentity | undefined): void {
    this.#isTrustedIdentity = check;
  }

  /** The engine's check bound to one device, as @pulse/crypto's SessionRecord asks it. */
  #trustFor(address: DeviceAddress) {
    const check = this.#isTrustedIdentity;
    if (check === undefined) return {};
    return {
      isTrustedIdentity: (identityKey: Uint8Array, direction: 'sending' | 'receiving') =>
        check({ account: address.account, deviceId: address.deviceId }, identityKey, direction),
    };
  }

  async generatePreKeys(count: number, rotate: boolean): Promise<PreKeyUpload> {
    const upload: PreKeyUpload = {};
    const preKeys = this.#preKeys;
    if (rotate || preKeys.signedPreKeys.size === 0) {
      const signed = generateSignedPreKey(this.#identity, this.#takeId());
      preKeys.addSignedPreKey(signed);
      const ids = [...preKeys.signedPreKeys.keys()].sort((a, b) => a - b);
      for (const old of ids.slice(0, Math.max(0, ids.length - KEPT_SIGNED_PREKEYS))) preKeys.removeSignedPreKey(old);
      const lastResort = generatePqPreKey(this.#identity, this.#takeId(), { lastResort: true });
      preKeys.addPqPreKey(lastResort);
      const lastResortIds = [...preKeys.pqPreKeys.values()].filter((k) => k.lastResort).map((k) => k.keyId);
      lastResortIds.sort((a, b) => a - b);
      for (const old of lastResortIds.slice(0, Math.max(0, lastResortIds.length - KEPT_LAST_RESORT_PQ_PREKEYS))) {
        preKeys.removePqPreKey(old);
      }
      upload.signedPreKey = signed.toPublic();
      upload.pqLastResortPreKey = lastResort.toPublic();
    }
    const oneTime = generateOneTimePreKeys(this.#takeId(count), count);
    preKeys.addOneTimePreKeys(oneTime);
    const pq = Array.from({ length: count }, () => generatePqPreKey(this.#identity, this.#takeId()));
    for (const key of pq) preKeys.addPqPreKey(key);
    upload.oneTimePreKeys = oneTime.map((k) => k.toPublic());
    upload.pqOneTimePreKeys = pq.map((k) => k.toPublic());
    return upload;
  }

  hasSession(address: DeviceAddress): boolean {
    return this.#sessions.get(addressKey(address))?.current !== undefined;
  }

  sessionIdentity(address: DeviceAddress): Uint8Array | undefined {
    return this.#sessions.get(addressKey(address))?.current?.remoteIdentityKey;
  }

  /** A new current session for `address`; the previous ones stay archived in its record. */
  async startSession(address: DeviceAddress, bundle: DeviceBundle): Promise<void> {
    await this.#record(address).initiate(
      this.#identity,
      {
        identityKey: bundle.identityKey,
        signedPreKey: bundle.signedPreKey,
        pqPreKey: bundle.pqPreKey,
        oneTimePreKey: bundle.oneTimePreKey,
      },
      this.#trustFor(address),
    );
  }

  dropSession(address: DeviceAddress): void {
    this.#sessions.delete(addressKey(address));
  }

  async encrypt(address: DeviceAddress, plaintext: Uint8Array): Promise<Uint8Array> {
    const record = this.#sessions.get(addressKey(address));
    if (record?.current === undefined) {
      throw new PulseError('UNKNOWN_CONTACT', `no session with ${addressKey(address)}`);
    }
    return record.encrypt(plaintext);
  }

  async decrypt(
    address: DeviceAddress,
    ciphertext: Uint8Array,
  ): Promise<{ plaintext: Uint8Array; identityKey: Uint8Array }> {
    // The session that decrypts (an archived one, or a new one from an initial message) becomes current.
    const result = await this.#record(address).decrypt(
      this.#identity,
      this.#preKeys,
      ciphertext,
      this.#trustFor(address),
    );
    return { plaintext: result.plaintext, identityKey: result.session.remoteIdentityKey };
  }

  #record(address: DeviceAddress): SessionRecord {
    const key = addressKey(address);
    let record = this.#sessions.get(key);
    if (record === undefined) {
      record = new SessionRecord();
      this.#sessions.set(key, record);
    }
    return record;
  }

  async safetyNumber(localAccount: string, remoteAccount: string, remoteIdentityKey: Uint8Array): Promise<string> {
    const encoder = new TextEncoder();
    const digits = safetyNumber(
      { identifier: encoder.encode(localAccount), identityKey: this.#identity.publicKey },
      { identifier: encoder.encode(remoteAccount), identityKey: remoteIdentityKey },
    );
    return digits.match(/\d{5}/g)?.join(' ') ?? digits;
  }

  async senderKeyDistribution(groupId: string, rotate: boolean): Promise<Uint8Array> {
    const own = this.#ownSenderKeys.get(groupId);
    if (own === undefined) {
      const created = SenderKeyRecord.createForSending(distributionId(groupId));
      this.#ownSenderKeys.set(groupId, created);
      return created.createDistributionMessage();
    }
    return rotate ? own.rotate() : own.createDistributionMessage();
  }

  async processSenderKeyDistribution(sender: DeviceAddress, groupId: string, distribution: Uint8Array): Promise<void> {
    const key = senderKeyId(sender, groupId);
    const record = this.#peerSenderKeys.get(key);
    if (record === undefined) this.#peerSenderKeys.set(key, SenderKeyRecord.fromDistributionMessage(distribution));
    else record.processDistributionMessage(distribution);
  }

  dropSenderKey(sender: DeviceAddress, groupId: string): void {
    this.#peerSenderKeys.delete(senderKeyId(sender, groupId));
  }

  async groupEncrypt(groupId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const own = this.#ownSenderKeys.get(groupId);
    if (own === undefined) throw new PulseError('UNKNOWN_GROUP', `no sender key for group ${groupId}`);
    return own.encrypt(plaintext);
  }

  async groupDecrypt(sender: DeviceAddress, groupId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    const record = this.#peerSenderKeys.get(senderKeyId(sender, groupId));
    if (record === undefined) {
      throw new PulseError('NOT_A_MEMBER', `no sender key from ${addressKey(sender)} for group ${groupId}`);
    }
    return record.decrypt(ciphertext);
  }

  async seal(address: DeviceAddress, certificate: Uint8Array, content: SealedContent): Promise<Uint8Array | undefined> {
    const recipientIdentityKey = this.sessionIdentity(address);
    if (recipientIdentityKey === undefined) return undefined;
    const inner = new UnidentifiedSenderMessageContent({
      type: content.type,
      senderCertificate: SenderCertificate.deserialize(certificate),
      content: content.payload,
    });
    return sealedSenderEncrypt(inner, { sender: this.#identity, recipientIdentityKey });
  }

  async unseal(sealed: Uint8Array, options: UnsealContext): Promise<UnsealedEnvelope> {
    const opened = await sealedSenderDecrypt(sealed, {
      trustRoots: [options.trustRoot],
      verified: this.#verifiedCertificates,
      now: options.now,
      recipient: { ...options.self, identity: this.#identity },
      isExpectedSender: options.isExpectedSender,
    });
    return { sender: opened.sender, payload: opened.content };
  }

  async exportState(): Promise<Uint8Array> {
    const state: EngineState = {
      v: 3,
      identity: toBase64(this.#identity.serialize()),
      nextPreKeyId: this.#nextPreKeyId,
      signed: [...this.#preKeys.signedPreKeys.values()].map((k) => this.#once(k, () => k.serialize())),
      oneTime: [...this.#preKeys.oneTimePreKeys.values()].map((k) => this.#once(k, () => k.serialize())),
      pq: [...this.#preKeys.pqPreKeys.values()].map((k) => this.#once(k, () => k.serialize())),
      usedPreKeys: this.#preKeys.usedPreKeys().map((u) => this.#once(u, () => serializePreKeyUse(u))),
      sessions: Object.fromEntries(
        [...this.#sessions].filter(([, r]) => r.size > 0).map(([address, r]) => [address, toBase64(r.serialize())]),
      ),
      ownSenderKeys: Object.fromEntries([...this.#ownSenderKeys].map(([id, r]) => [id, toBase64(r.serialize())])),
      peerSenderKeys: Object.fromEntries([...this.#peerSenderKeys].map(([id, r]) => [id, toBase64(r.serialize())])),
    };
    // The prekey lists are most of the state (PQ prekeys: ~270 KB) and change on upload and use,
    // not per message: their JSON bytes are reused while they hold the same keys (issue 15).
    const { signed, oneTime, pq, usedPreKeys, ...rest } = state;
    const head = UTF8.encode(`${JSON.stringify(rest).slice(0, -1)},`);
    const preKeys = this.#preKeysJson({ signed, oneTime, pq, usedPreKeys: usedPreKeys ?? [] });
    const out = new Uint8Array(head.length + preKeys.length);
    out.set(head);
    out.set(preKeys, head.length);
    return out;
  }

  /** `"signed":[…],…}`: the JSON of `lists` without its opening brace, as last encoded when unchanged. */
  #preKeysJson(lists: PreKeyLists): Uint8Array {
    const last = this.#lastPreKeys;
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);
    if (
      last !== undefined &&
      (Object.keys(lists) as (keyof typeof lists)[]).every((k) => same(lists[k], last.lists[k]))
    ) {
      return last.bytes;
    }
    const bytes = UTF8.encode(JSON.stringify(lists).slice(1));
    this.#lastPreKeys = { lists, bytes };
    return bytes;
  }

  /** The base64 of `bytes()`, computed once per unchanging `owner`. */
  #once(owner: object, bytes: () => Uint8Array): string {
    let text = this.#base64.get(owner);
    if (text === undefined) {
      text = toBase64(bytes());
      this.#base64.set(owner, text);
    }
    return text;
  }

  /** Prekey ids: increasing, wrapping below 2^31 (the wire allows uint32). */
  #takeId(count = 1): number {
    const id = this.#nextPreKeyId;
    this.#nextPreKeyId = ((this.#nextPreKeyId + count - 1) % 0x7fff_ffff) + 1;
    return id;
  }
}

function senderKeyId(sender: DeviceAddress, groupId: string): string {
  return `${groupId}|${addressKey(sender)}`;
}

/** Group ids are 32 hex digits: their 16 bytes are the Sender Key distribution id. */
function distributionId(groupId: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(groupId)) throw new PulseError('BAD_INPUT', `bad group id ${groupId}`);
  return Uint8Array.from(groupId.match(/../g)!, (h) => Number.parseInt(h, 16));
}
