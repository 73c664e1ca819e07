import type { Workload } from '../lib/suite.ts';
import { browser } from './browser.ts';
import { clusterFanout } from './cluster-fanout.ts';
import { clusterLatency } from './cluster-latency.ts';
import { connections } from './connections.ts';
import { crypto } from './crypto.ts';
import { durableNats } from './durable-nats.ts';
import { e2e } from './e2e.ts';
import { fanout } from './fanout.ts';
import { ingest } from './ingest.ts';
import { latency } from './latency.ts';
import { transport } from './transport.ts';

/** Every workload of the suite, in the order the table lists them (issue 15). */
export const WORKLOADS: readonly Workload[] = [
  fanout,
  latency,
  ingest,
  e2e,
  connections,
  browser,
  transport,
  crypto,
  clusterLatency,
  clusterFanout,
  durableNats,
];
