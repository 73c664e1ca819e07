import type { PresenceShare } from '../../../core/ports/presence-share.ts';
import type { ServerConfig } from '../../config/config.ts';
import { subjectKey } from '../subject-key.ts';
import { NatsPresence } from './nats-presence.ts';

/**
 * Presence across nodes in cluster mode (NATS KV), undefined on one node. A
 * node that stops refreshing drops out of the others' views within
 * `heartbeat.timeout`; it refreshes a third of that apart (at most every
 * `heartbeat.interval`, at least every 100 ms).
 */
export function openPresence(config: ServerConfig, onError?: (error: unknown) => void): PresenceShare | undefined {
  const { nats, replicas } = config.cluster;
  if (nats.length === 0) return undefined;
  const timeoutMs = config.heartbeat.timeout;
  const intervalMs = Math.max(100, Math.min(config.heartbeat.interval, Math.floor(timeoutMs / 3)));
  const key = subjectKey(config.cluster.subjectKey, 'pulse channel subjects');
  return new NatsPresence({ servers: nats, replicas, subjectKey: key, intervalMs, timeoutMs, onError });
}
