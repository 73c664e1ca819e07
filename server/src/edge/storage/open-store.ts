import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../core/store.ts';
import type { ServerConfig } from '../config/config.ts';
import { NatsStore } from './nats/nats-store.ts';
import { SqliteStore } from './sqlite-store.ts';

/** Whether the store can be used now (`/healthz`). */
export interface StoreHealth {
  readonly available: boolean;
  /** For operators: `sqlite`, or the NATS connection state. */
  readonly detail: string;
}

export interface OpenedStore {
  readonly store: Store;
  health(): StoreHealth;
  /** SQLite: writes at the writer thread not answered yet (at most `storage.max_writes_in_flight`), for a gauge. */
  readonly writesInFlight?: (() => number) | undefined;
}

/**
 * The store the configuration asks for: NATS JetStream when `[cluster] nats`
 * names servers (cluster mode; it connects in the background and refuses work,
 * UNAVAILABLE, until NATS answers), else SQLite under `[storage] path`.
 */
export function openStore(config: ServerConfig, log: Logger): OpenedStore {
  const { nats, replicas } = config.cluster;
  if (nats.length === 0) {
    const store = new SqliteStore(join(config.storage.path, 'pulse.db'), {
      maxWritesInFlight: config.storage.maxWritesInFlight,
      // Not restarted: whatever stopped it (a broken file, a bug) would likely stop the next one too.
      onStopped: (error) => log.error({ err: error }, 'store unavailable: %s', error.message),
    });
    return {
      store,
      writesInFlight: () => store.writesInFlight.sent,
      health: () =>
        store.writable ? { available: true, detail: 'sqlite' } : { available: false, detail: 'sqlite writer stopped' },
    };
  }
  // Hosts only in the log: a URL may carry credentials (nats://user:password@host).
  const hosts = nats.map((url) => new URL(url).host).join(',');
  const store = new NatsStore({
    servers: nats,
    replicas,
    onAvailability: (available, detail) => {
      if (available) log.info({ nats: hosts, replicas }, 'store available: %s', detail);
      else log.error({ nats: hosts }, 'store unavailable: %s', detail);
    },
  });
  return { store, health: () => store.health() };
}
