import type { StateVault } from './vault.ts';

/**
 * The browser's vault: the profile state in IndexedDB, sealed with an AES-GCM
 * WebCrypto key that is generated non-extractable and stored as a CryptoKey
 * object, so page scripts can use it but never read its bytes.
 */
const STORE = 'vault';

export class IndexedDbVault implements StateVault {
  readonly #db: IDBDatabase;
  readonly #key: CryptoKey;

  private constructor(db: IDBDatabase, key: CryptoKey) {
    this.#db = db;
    this.#key = key;
  }

  static async open(name = 'pulse-profile'): Promise<IndexedDbVault> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let key = (await get(db, 'key')) as CryptoKey | undefined;
    if (key === undefined) {
      key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await put(db, 'key', key);
    }
    return new IndexedDbVault(db, key);
  }

  async load(): Promise<Uint8Array | undefined> {
    const sealed = (await get(this.#db, 'state')) as Uint8Array | undefined;
    if (sealed === undefined) return undefined;
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.slice(0, 12) },
      this.#key,
      sealed.slice(12),
    );
    return new Uint8Array(plain);
  }

  async save(state: Uint8Array): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.#key, new Uint8Array(state)),
    );
    const out = new Uint8Array(12 + sealed.length);
    out.set(iv);
    out.set(sealed, 12);
    await put(this.#db, 'state', out);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

function get(db: IDBDatabase, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function put(db: IDBDatabase, key: string, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, 'readwrite');
    transaction.objectStore(STORE).put(value, key);
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}
