import type { Following } from './channel-log.ts';

/** A subscriber others may see on a channel (PROTOCOL.md "Presence"): the same shape as a presence member. */
export interface SharedMember {
  readonly account: string;
  readonly deviceId: number;
  readonly connectedAt: number;
}

/**
 * Presence across nodes (issue 13, cluster mode): each node publishes the
 * members it shows on a channel, and hears those the other nodes show.
 *
 * The shared state is a map from node to that node's member set, per
 * channel. Each entry has one writer (its node), which replaces it whole; the
 * view of a channel is the union of the live entries. So concurrent updates by
 * different nodes never overwrite each other (a state-based CRDT: a map of
 * single-writer registers merged by union), and a node that stops refreshing
 * its entries (it died) drops out of every view within the liveness timeout.
 * Implementation: edge/cluster/channels/nats-presence.ts (NATS KV with a TTL).
 */
export interface PresenceShare {
  /** Replaces this node's visible members of `channel` (empty: it shows none). */
  set(channel: string, members: readonly SharedMember[]): void;
  /**
   * Calls `listener` with the members the other nodes show on `channel`
   * whenever that changes; `ready` settles once the current ones are known.
   */
  watch(channel: string, listener: (members: readonly SharedMember[]) => void): Following;
  close(): Promise<void>;
}
