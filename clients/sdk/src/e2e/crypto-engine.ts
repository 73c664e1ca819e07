import {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  IdentityKeyPair,
  OneTimePreKey,
  PqPreKey,
  type PrekeyStore,
  receiveSessionMessage,
  Session,
  SignedPreKey,
} from '@pulse/crypto';
import { fromBase64, toBase64 } from '../base64.ts';
import { PulseError } from '../errors.ts';
import {
  addressKey,
  type DeviceAddress,
  type DeviceBundle,
  type E2EEngine,
  type E2EEngineFactory,
  type PreKeyUpload,
} from './engine.ts';

/** Signed prekeys kept after rotation, so initial messages already in flight still decrypt. */
const KEPT_SIGNED_PREKEYS = 3;
const MAX_REMEMBERED_BASE_KEYS = 2_000;

/** Serialized engine state (JSON; every key and session as its @pulse/crypto serialization, base64). */
interface EngineState {
  v: 1;
  identity: string;
  nextPreKeyId: number;
  signed: string[];
  oneTime: string[];
  pq: string[];
  baseKeys: string[];
  sessions: Record<string, string>;
}

/** The prekey store @pulse/crypto consults when a device answers an initial message. */
class PreKeys implements PrekeyStore {
  readonly signed = new Map<number, SignedPreKey>();
  readonly oneTime = new Map<number, OneTimePreKey>();
  readonly pq = new Map<number, PqPreKey>();
  readonly baseKeys: string[] = [];

  getSignedPreKey(keyId: number) {
    return this.signed.get(keyId);
  }
  getOneTimePreKey(keyId: number) {
    return this.oneTime.get(keyId);
  }
  getPqPreKey(keyId: number) {
    return this.pq.get(keyId);
  }
  removeOneTimePreKey(keyId: number) {
    this.oneTime.delete(keyId);
  }
  removePqPreKey(keyId: number) {
    this.pq.delete(keyId);
  }
  markBaseKeyUsed(baseKey: Uint8Array): boolean {
    const id = toBase64(baseKey);
    if (this.baseKeys.includes(id)) return false;
    this.baseKeys.push(id);
    if (this.baseKeys.length > MAX_REMEMBERED_BASE_KEYS) this.baseKeys.shift();
    return true;
  }
}

/** E2EEngine on @pulse/crypto's public API: PQXDH + Double Ratchet sessions per device. */
export class CryptoEngine implements E2EEngine {
  readonly #identity: IdentityKeyPair;
  readonly #preKeys = new PreKeys();
  readonly #sessions = new Map<string, Session>();
  #nextPreKeyId = 1;

  private constructor(identity: IdentityKeyPair) {
    this.#identity = identity;
  }

  static factory(): E2EEngineFactory {
    return {
      create: async () => new CryptoEngine(IdentityKeyPair.generate()),
      restore: async (bytes) => CryptoEngine.#restore(bytes),
    };
  }

  static #restore(bytes: Uint8Array): CryptoEngine {
    let state: EngineState;
    try {
      state = JSON.parse(new TextDecoder().decode(bytes)) as EngineState;
      if (state.v !== 1) throw new Error(`version ${String(state.v)}`);
    } catch (cause) {
      throw new PulseError('PROFILE_CORRUPT', 'the saved key state is not readable', { cause });
    }
    const engine = new CryptoEngine(IdentityKeyPair.deserialize(fromBase64(state.identity)));
    engine.#nextPreKeyId = state.nextPreKeyId;
    for (const s of state.signed) {
      const key = SignedPreKey.deserialize(fromBase64(s));
      engine.#preKeys.signed.set(key.keyId, key);
    }
    for (const s of state.oneTime) {
      const key = OneTimePreKey.deserialize(fromBase64(s));
      engine.#preKeys.oneTime.set(key.keyId, key);
    }
    for (const s of state.pq) {
      const key = PqPreKey.deserialize(fromBase64(s));
      engine.#preKeys.pq.set(key.keyId, key);
    }
    engine.#preKeys.baseKeys.push(...state.baseKeys);
    for (const [address, s] of Object.entries(state.sessions)) {
      engine.#sessions.set(address, Session.deserialize(fromBase64(s)));
    }
    return engine;
  }

  get identityKey(): Uint8Array {
    return this.#identity.publicKey;
  }

  sign(message: Uint8Array): Uint8Array {
    return this.#identity.sign(message);
  }

  async generatePreKeys(count: number, rotate: boolean): Promise<PreKeyUpload> {
    const upload: PreKeyUpload = {};
    if (rotate || this.#preKeys.signed.size === 0) {
      const signed = generateSignedPreKey(this.#identity, this.#takeId());
      this.#preKeys.signed.set(signed.keyId, signed);
      const ids = [...this.#preKeys.signed.keys()].sort((a, b) => a - b);
      for (const old of ids.slice(0, Math.max(0, ids.length - KEPT_SIGNED_PREKEYS))) this.#preKeys.signed.delete(old);
      const lastResort = generatePqPreKey(this.#identity, this.#takeId(), { lastResort: true });
      this.#preKeys.pq.set(lastResort.keyId, lastResort);
      upload.signedPreKey = signed.toPublic();
      upload.pqLastResortPreKey = lastResort.toPublic();
    }
    const oneTime = generateOneTimePreKeys(this.#takeId(count), count);
    for (const key of oneTime) this.#preKeys.oneTime.set(key.keyId, key);
    const pq = Array.from({ length: count }, () => generatePqPreKey(this.#identity, this.#takeId()));
    for (const key of pq) this.#preKeys.pq.set(key.keyId, key);
    upload.oneTimePreKeys = oneTime.map((k) => k.toPublic());
    upload.pqOneTimePreKeys = pq.map((k) => k.toPublic());
    return upload;
  }

  hasSession(address: DeviceAddress): boolean {
    return this.#sessions.has(addressKey(address));
  }

  sessionIdentity(address: DeviceAddress): Uint8Array | undefined {
    return this.#sessions.get(addressKey(address))?.remoteIdentityKey;
  }

  async startSession(address: DeviceAddress, bundle: DeviceBundle): Promise<void> {
    const session = await Session.initiate(this.#identity, {
      identityKey: bundle.identityKey,
      signedPreKey: bundle.signedPreKey,
      pqPreKey: bundle.pqPreKey,
      oneTimePreKey: bundle.oneTimePreKey,
    });
    this.#sessions.set(addressKey(address), session);
  }

  dropSession(address: DeviceAddress): void {
    this.#sessions.delete(addressKey(address));
  }

  async encrypt(address: DeviceAddress, plaintext: Uint8Array): Promise<Uint8Array> {
    const session = this.#sessions.get(addressKey(address));
    if (session === undefined) throw new PulseError('UNKNOWN_CONTACT', `no session with ${addressKey(address)}`);
    return session.encrypt(plaintext);
  }

  async decrypt(
    address: DeviceAddress,
    ciphertext: Uint8Array,
  ): Promise<{ plaintext: Uint8Array; identityKey: Uint8Array }> {
    const key = addressKey(address);
    const result = await receiveSessionMessage(this.#identity, this.#preKeys, ciphertext, {
      session: this.#sessions.get(key),
    });
    this.#sessions.set(key, result.session);
    return { plaintext: result.plaintext, identityKey: result.session.remoteIdentityKey };
  }

  async safetyNumber(_localAccount: string, _remoteAccount: string, _remoteIdentityKey: Uint8Array): Promise<string> {
    throw new PulseError('NOT_SUPPORTED', 'safety numbers are not available in @pulse/crypto yet');
  }

  async senderKeyDistribution(_groupId: string, _rotate: boolean): Promise<Uint8Array> {
    throw new PulseError('NOT_SUPPORTED', 'sender keys are not available in @pulse/crypto yet');
  }

  async processSenderKeyDistribution(_sender: DeviceAddress, _groupId: string, _d: Uint8Array): Promise<void> {
    throw new PulseError('NOT_SUPPORTED', 'sender keys are not available in @pulse/crypto yet');
  }

  dropSenderKey(_sender: DeviceAddress, _groupId: string): void {}

  async groupEncrypt(_groupId: string, _plaintext: Uint8Array): Promise<Uint8Array> {
    throw new PulseError('NOT_SUPPORTED', 'sender keys are not available in @pulse/crypto yet');
  }

  async groupDecrypt(_sender: DeviceAddress, _groupId: string, _ciphertext: Uint8Array): Promise<Uint8Array> {
    throw new PulseError('NOT_SUPPORTED', 'sender keys are not available in @pulse/crypto yet');
  }

  async exportState(): Promise<Uint8Array> {
    const state: EngineState = {
      v: 1,
      identity: toBase64(this.#identity.serialize()),
      nextPreKeyId: this.#nextPreKeyId,
      signed: [...this.#preKeys.signed.values()].map((k) => toBase64(k.serialize())),
      oneTime: [...this.#preKeys.oneTime.values()].map((k) => toBase64(k.serialize())),
      pq: [...this.#preKeys.pq.values()].map((k) => toBase64(k.serialize())),
      baseKeys: [...this.#preKeys.baseKeys],
      sessions: Object.fromEntries([...this.#sessions].map(([address, s]) => [address, toBase64(s.serialize())])),
    };
    return new TextEncoder().encode(JSON.stringify(state));
  }

  /** Prekey ids: increasing, wrapping below 2^31 (the wire allows uint32). */
  #takeId(count = 1): number {
    const id = this.#nextPreKeyId;
    this.#nextPreKeyId = ((this.#nextPreKeyId + count - 1) % 0x7fff_ffff) + 1;
    return id;
  }
}
