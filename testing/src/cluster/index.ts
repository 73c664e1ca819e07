/**
 * @pulse/testing/cluster (dev only): cluster mode on real processes.
 *
 * - NatsServer: one `nats-server -js` on 127.0.0.1 (free ports, its own data
 *   directory), stopped by pid; `startNatsCluster` clusters three of them.
 * - PulseCluster: NATS plus several Pulse server processes (`spawnServer`)
 *   whose `[cluster] nats` names it, each on its own ports, sharing one token
 *   keys file.
 * - FailoverProxy: a TCP front that sends each connection to the first live
 *   node of its list (a load balancer: clients of a dead node land on another).
 */
export { FailoverProxy } from './failover-proxy.ts';
export { freePort } from './free-port.ts';
export { startNatsCluster } from './nats-cluster.ts';
export { NatsServer, type NatsServerOptions } from './nats-server.ts';
export { PulseCluster, type PulseClusterOptions } from './pulse-cluster.ts';
