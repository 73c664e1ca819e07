import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PulseError } from '../errors.ts';
import type { StateVault } from './vault.ts';

/**
 * A profile directory (Node only): `profile.json` holds the KDF parameters in the
 * clear; `state.enc` holds the state sealed with AES-256-GCM under a key derived
 * from the passphrase with scrypt (RFC 7914). A wrong passphrase fails the GCM tag
 * check, so it is told apart from a damaged file only by the tag on a known header.
 * `state.lock` keeps two processes from writing the same profile at once.
 */
const FORMAT = 'pulse-profile';
const VERSION = 1;
const AAD = new TextEncoder().encode('pulse-profile-v1');

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** RFC 7914 §2 suggests N = 2^20 for file encryption; 2^15 keeps the CLI responsive (about 0.1 s here). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

interface ProfileHeader {
  format: typeof FORMAT;
  version: number;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
}

export class FileVault implements StateVault {
  readonly directory: string;
  readonly #key: Buffer;
  #locked = false;

  private constructor(directory: string, key: Buffer) {
    this.directory = directory;
    this.#key = key;
  }

  /**
   * Opens (or creates) the profile in `directory`, deriving the key from
   * `passphrase`; takes the lock. Throws WRONG_PASSPHRASE when the passphrase
   * does not open an existing state.
   */
  static async open(directory: string, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<FileVault> {
    if (passphrase.length === 0) throw new PulseError('BAD_INPUT', 'the profile passphrase is empty');
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const headerPath = join(directory, 'profile.json');
    let header: ProfileHeader;
    try {
      header = parseHeader(await readFile(headerPath, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      header = {
        format: FORMAT,
        version: VERSION,
        kdf: { name: 'scrypt', ...params, salt: randomBytes(16).toString('base64') },
      };
      await writeFile(headerPath, `${JSON.stringify(header, null, 2)}\n`, { mode: 0o600 });
    }
    const { N, r, p, salt } = header.kdf;
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt(passphrase, Buffer.from(salt, 'base64'), 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (e, k) =>
        e ? reject(e) : resolve(k),
      ),
    );
    const vault = new FileVault(directory, key);
    await vault.#lock();
    try {
      await vault.load(); // proves the passphrase before anything else happens
    } catch (error) {
      await vault.close();
      throw error;
    }
    return vault;
  }

  async load(): Promise<Uint8Array | undefined> {
    let sealed: Buffer;
    try {
      sealed = await readFile(join(this.directory, 'state.enc'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (sealed.length < 12 + 16) throw new PulseError('PROFILE_CORRUPT', `${this.directory}/state.enc is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, 12));
    decipher.setAAD(AAD);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
      return new Uint8Array(
        Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]),
      );
    } catch {
      throw new PulseError('WRONG_PASSPHRASE', `the passphrase does not open the profile in ${this.directory}`);
    }
  }

  async save(state: Uint8Array): Promise<void> {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([nonce, cipher.update(state), cipher.final(), cipher.getAuthTag()]);
    // Write then rename: a crash leaves the old state or the new one, never half of each.
    const path = join(this.directory, 'state.enc');
    const temporary = `${path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(sealed);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }

  async close(): Promise<void> {
    if (!this.#locked) return;
    this.#locked = false;
    await unlink(join(this.directory, 'state.lock')).catch(() => {});
  }

  async #lock(): Promise<void> {
    const path = join(this.directory, 'state.lock');
    for (let tries = 0; tries < 2; tries++) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
        this.#locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
        if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) {
          throw new PulseError('BAD_INPUT', `the profile ${this.directory} is in use by process ${holder}`);
        }
        await unlink(path).catch(() => {}); // a stale lock from a process that died
      }
    }
    throw new PulseError('BAD_INPUT', `cannot lock the profile ${this.directory}`);
  }
}

function parseHeader(text: string): ProfileHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PulseError('PROFILE_CORRUPT', 'profile.json is not JSON');
  }
  const header = value as Partial<ProfileHeader>;
  const kdf = header.kdf;
  if (
    header.format !== FORMAT ||
    header.version !== VERSION ||
    kdf?.name !== 'scrypt' ||
    ![kdf.N, kdf.r, kdf.p].every((n) => Number.isSafeInteger(n) && n > 0) ||
    kdf.N > 2 ** 22 ||
    typeof kdf.salt !== 'string'
  ) {
    throw new PulseError('PROFILE_CORRUPT', 'profile.json is not a Pulse profile header');
  }
  return header as ProfileHeader;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
