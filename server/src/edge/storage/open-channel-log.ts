import { join } from 'node:path';
import { channelLogBudget } from '../../core/channels/log-budget.ts';
import type { ChannelLog } from '../../core/ports/channel-log.ts';
import { NatsChannelLog } from '../cluster/channels/nats-channel-log.ts';
import { subjectKey } from '../cluster/subject-key.ts';
import type { ServerConfig } from '../config/config.ts';
import { SqliteChannelLog } from './sqlite-channel-log.ts';

/**
 * The channel log the configuration asks for: in cluster mode the JetStream
 * one every node shares (`[cluster] nats`); else SQLite beside the store, in
 * the same file (`<storage.path>/pulse.db`, tables of migration 6).
 */
export function openChannelLog(config: ServerConfig, onFollowError?: (error: unknown) => void): ChannelLog {
  const budget = channelLogBudget(config.limits);
  const { nats, replicas } = config.cluster;
  if (nats.length > 0) {
    const key = subjectKey(config.cluster.subjectKey, 'pulse channel subjects');
    return new NatsChannelLog({ servers: nats, replicas, budget, subjectKey: key, onFollowError });
  }
  return new SqliteChannelLog(join(config.storage.path, 'pulse.db'), budget);
}
