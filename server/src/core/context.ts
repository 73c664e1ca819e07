import type { FrameCodec } from '@pulse/proto';
import type { TokenIssuer } from './auth/tokens.ts';
import type { SignatureVerifier } from './auth/verifier.ts';
import type { ChannelRegistry } from './channels/registry.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { DeviceHub } from './hub.ts';
import type { Budgets } from './limits/budgets.ts';
import type { KeyedBuckets } from './limits/token-bucket.ts';
import type { PendingLinks } from './links.ts';
import type { Clock } from './ports/clock.ts';
import type { Logger } from './ports/logger.ts';
import type { Metrics } from './ports/metrics.ts';
import type { RandomSource } from './ports/random.ts';
import type { Scheduler } from './ports/scheduler.ts';
import type { SealedSenderAuthority } from './ports/sealed-sender.ts';
import type { AnonymousSenders } from './session/anonymous-senders.ts';
import type { CoreSettings } from './settings.ts';
import type { Store } from './store.ts';

/** Everything a session needs, shared by all sessions of one server (built by PulseCore). */
export interface RouterContext {
  readonly settings: CoreSettings;
  readonly codec: FrameCodec;
  readonly store: Store;
  /** Group commit of envelopes. */
  readonly commits: CommitQueue;
  readonly verify: SignatureVerifier;
  readonly tokens: TokenIssuer;
  readonly channels: ChannelRegistry;
  readonly hub: DeviceHub;
  /** Devices waiting for a device of their account to approve them (PROTOCOL.md "Linking"). */
  readonly links: PendingLinks;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly scheduler: Scheduler;
  /** Authentication attempts per IP address. */
  readonly authBuckets: KeyedBuckets;
  /** Bundle fetches per requesting account. */
  readonly fetchBuckets: KeyedBuckets;
  /** Rate budgets per device, account or pair (prekey signatures and fetches, channel joins). */
  readonly budgets: Budgets;
  /** Connections that never authenticate and only send sealed envelopes, with their bounds (PROTOCOL.md "Anonymous connections"). */
  readonly anonymous: AnonymousSenders;
  /** Signs sender certificates, hashes delivery tokens (undefined: this server offers no sealed sender). */
  readonly sealedSender: SealedSenderAuthority | undefined;
}
