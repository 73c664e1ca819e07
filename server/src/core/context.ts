import type { FrameCodec } from '@pulse/proto';
import type { Logger } from 'pino';
import type { ServerConfig } from '../edge/config/config.ts';
import type { Metrics } from '../edge/metrics.ts';
import type { TokenIssuer } from './auth/tokens.ts';
import type { SignatureVerifier } from './auth/verifier.ts';
import type { ChannelRegistry } from './channels/registry.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { DeviceHub } from './hub.ts';
import type { KeyedBuckets } from './limits/token-bucket.ts';
import type { Store } from './store.ts';

/** Everything a session needs, shared by all sessions of one server. */
export interface RouterContext {
  readonly config: ServerConfig;
  readonly codec: FrameCodec;
  readonly store: Store;
  /** Group commit of envelopes. */
  readonly commits: CommitQueue;
  readonly verify: SignatureVerifier;
  readonly tokens: TokenIssuer;
  readonly channels: ChannelRegistry;
  readonly hub: DeviceHub;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Authentication attempts per IP address. */
  readonly authBuckets: KeyedBuckets;
  /** Bundle fetches per requesting account. */
  readonly fetchBuckets: KeyedBuckets;
  /** Wall-clock milliseconds (tests may pass a fake clock). */
  now(): number;
}
