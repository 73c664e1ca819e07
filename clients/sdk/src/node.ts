/**
 * @pulse/sdk/node — Node-only parts: the `ws` WebSocket, the QUIC WebTransport
 * client from `@pulse/webtransport/node`, and the passphrase-sealed profile directory.
 */
import { WebSocket } from 'ws';
import { PulseClient, type PulseClientOptions } from './client.ts';
import { CryptoEngine } from './e2e/crypto-engine.ts';
import { FileVault, type ScryptParams } from './store/file-vault.ts';
import type { TransportFactories, WebSocketLike, WebTransportFactory } from './transport/types.ts';

export { DEFAULT_SCRYPT, FileVault, type ScryptParams } from './store/file-vault.ts';

interface QuicClientModule {
  connectWebTransport(
    url: string,
    options: { serverCertificateHashes?: { algorithm: 'sha-256'; value: Uint8Array }[] },
  ): unknown;
}

/** WebSocket through `ws`; WebTransport through `@pulse/webtransport/node` when it loads (its native part may be missing). */
export async function nodeTransportFactories(): Promise<TransportFactories> {
  let webTransport: WebTransportFactory | undefined;
  try {
    const specifier = '@pulse/webtransport/node';
    const quic = (await import(specifier)) as Partial<QuicClientModule>;
    const connect = quic.connectWebTransport;
    if (typeof connect === 'function') {
      webTransport = (url, options) => connect(url, options) as ReturnType<WebTransportFactory>;
    }
  } catch {
    // No QUIC here: WebSocket only.
  }
  return {
    webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    ...(webTransport === undefined ? {} : { webTransport }),
  };
}

export interface NodeClientOptions extends Omit<PulseClientOptions, 'vault' | 'engine' | 'factories'> {
  /** The profile directory. */
  readonly profile: string;
  /** Seals the profile; the CLI takes it from PULSE_PASSPHRASE or a prompt. */
  readonly passphrase: string;
  readonly scrypt?: ScryptParams;
  readonly factories?: TransportFactories;
}

/** Opens (or creates) a profile directory and the client on it. */
export async function openNodeClient(options: NodeClientOptions): Promise<PulseClient> {
  const vault = await FileVault.open(options.profile, options.passphrase, options.scrypt);
  try {
    return await PulseClient.open({
      ...options,
      vault,
      engine: CryptoEngine.factory(),
      factories: options.factories ?? (await nodeTransportFactories()),
    });
  } catch (error) {
    await vault.close();
    throw error;
  }
}
