/**
 * libsignal-client (AGPL, devDependency) driven with in-memory stores: the baseline
 * for the benchmark and the differential tests. Never imported by src/.
 */
import {
  CiphertextMessageType,
  type Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  type PrivateKey,
  ProtocolAddress,
  type PublicKey,
  processPreKeyBundle,
  SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';

class Sessions extends SessionStore {
  readonly map = new Map<string, SessionRecord>();
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.map.set(name.toString(), SessionRecord.deserialize(record.serialize()));
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    return this.map.get(name.toString()) ?? null;
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => this.map.get(a.toString())!);
  }
}

class Identities extends IdentityKeyStore {
  readonly identity: IdentityKeyPair;
  readonly known = new Map<string, PublicKey>();
  constructor(identity: IdentityKeyPair) {
    super();
    this.identity = identity;
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.identity.privateKey;
  }
  async getLocalRegistrationId(): Promise<number> {
    return 1;
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    this.known.set(name.toString(), key);
    return IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(_name: ProtocolAddress, _key: PublicKey, _direction: Direction): Promise<boolean> {
    return true;
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.known.get(name.toString()) ?? null;
  }
}

class PreKeys extends PreKeyStore {
  readonly map = new Map<number, PreKeyRecord>();
  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.map.set(id, record);
  }
  async getPreKey(id: number): Promise<PreKeyRecord> {
    return this.map.get(id)!;
  }
  async removePreKey(id: number): Promise<void> {
    this.map.delete(id);
  }
}

class SignedPreKeys extends SignedPreKeyStore {
  readonly map = new Map<number, SignedPreKeyRecord>();
  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.map.set(id, record);
  }
  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    return this.map.get(id)!;
  }
}

class KyberPreKeys extends KyberPreKeyStore {
  readonly map = new Map<number, KyberPreKeyRecord>();
  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.map.set(id, record);
  }
  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    return this.map.get(id)!;
  }
  async markKyberPreKeyUsed(): Promise<void> {}
}

export class LibsignalParty {
  readonly address: ProtocolAddress;
  readonly identity = IdentityKeyPair.generate();
  readonly sessions = new Sessions();
  readonly identities = new Identities(this.identity);
  readonly preKeys = new PreKeys();
  readonly signedPreKeys = new SignedPreKeys();
  readonly kyberPreKeys = new KyberPreKeys();

  constructor(name: string) {
    this.address = ProtocolAddress.new(name, 1);
  }

  /** A bundle with a one-time EC prekey and a Kyber prekey (keys generated here, outside any timing). */
  makeBundle(): PreKeyBundle {
    const id = this.preKeys.map.size + 1;
    const pre = IdentityKeyPair.generate();
    this.preKeys.map.set(id, PreKeyRecord.new(id, pre.publicKey, pre.privateKey));
    const signed = IdentityKeyPair.generate();
    const spkSig = this.identity.privateKey.sign(signed.publicKey.serialize());
    this.signedPreKeys.map.set(1, SignedPreKeyRecord.new(1, Date.now(), signed.publicKey, signed.privateKey, spkSig));
    const kem = KEMKeyPair.generate();
    const kemSig = this.identity.privateKey.sign(kem.getPublicKey().serialize());
    this.kyberPreKeys.map.set(1, KyberPreKeyRecord.new(1, Date.now(), kem, kemSig));
    return PreKeyBundle.new(
      1,
      1,
      id,
      pre.publicKey,
      1,
      signed.publicKey,
      spkSig,
      this.identity.publicKey,
      1,
      kem.getPublicKey(),
      kemSig,
    );
  }

  async processBundle(peer: LibsignalParty, bundle: PreKeyBundle): Promise<void> {
    await processPreKeyBundle(bundle, peer.address, this.address, this.sessions, this.identities);
  }

  async encrypt(peer: LibsignalParty, plaintext: Uint8Array<ArrayBuffer>): Promise<{ type: number; body: Uint8Array }> {
    const m = await signalEncrypt(plaintext, peer.address, this.address, this.sessions, this.identities);
    return { type: m.type(), body: m.serialize() };
  }

  async decrypt(peer: LibsignalParty, message: { type: number; body: Uint8Array }): Promise<Uint8Array> {
    const body = new Uint8Array(message.body) as Uint8Array<ArrayBuffer>;
    if (message.type === CiphertextMessageType.PreKey) {
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(body),
        peer.address,
        this.address,
        this.sessions,
        this.identities,
        this.preKeys,
        this.signedPreKeys,
        this.kyberPreKeys,
      );
    }
    return signalDecrypt(SignalMessage.deserialize(body), peer.address, this.address, this.sessions, this.identities);
  }
}
