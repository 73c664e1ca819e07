import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerProcess, type SpawnServerOptions, spawnServer } from '../server/child-server.ts';
import { temporaryDirectory } from '../server/test-config.ts';
import { startNatsCluster } from './nats-cluster.ts';
import { NatsServer } from './nats-server.ts';

/** How long a Pulse node may take, once listening, to report its NATS store usable on `/healthz`. */
const HEALTHY_MS = 30_000;

export interface PulseClusterOptions {
  /** Pulse nodes (server processes) to start; default 3. */
  readonly nodes?: number;
  /** nats-server processes: 1 (`-js`, replicas 1) or 3 (a clustered JetStream, replicas 3); default 1. */
  readonly natsServers?: 1 | 3;
  /** Options for every node (limits, heartbeat, transports...); `[cluster]` is filled in. Default: no web client, no WebTransport. */
  readonly node?: SpawnServerOptions;
}

/**
 * Several real Pulse server processes (`spawnServer`) on one NATS: what an
 * operator runs behind a load balancer in cluster mode. Each node has its own
 * ports and data directory; all name the same NATS servers in `[cluster] nats`
 * (the config file's spelling of PULSE_CLUSTER_NATS). Every process is stopped
 * by its pid.
 */
export class PulseCluster {
  readonly nats: NatsServer[];
  readonly nodes: ServerProcess[] = [];
  readonly #exited = new Set<ServerProcess>();
  /** The token keys file every node shares (`[auth] token_keys`): a token from one node opens a session on any. */
  readonly tokenKeys: string;
  readonly #nodeOptions: SpawnServerOptions;

  private constructor(nats: NatsServer[], nodeOptions: SpawnServerOptions) {
    this.nats = nats;
    this.#nodeOptions = nodeOptions;
    this.tokenKeys = sharedTokenKeys();
  }

  /** Node `index` (0-based); throws if the cluster has no such node. */
  node(index: number): ServerProcess {
    const found = this.nodes[index];
    if (found === undefined) throw new Error(`no node ${index}`);
    return found;
  }

  /** Starts NATS, then the nodes side by side; resolves once every node's `/healthz` says ok. */
  static async start(options: PulseClusterOptions = {}): Promise<PulseCluster> {
    const natsServers = options.natsServers ?? 1;
    const nats = natsServers === 1 ? [await NatsServer.start()] : await startNatsCluster(natsServers);
    if (natsServers === 1) await nats[0]?.jetstreamReady();
    const cluster = new PulseCluster(nats, { webClient: false, webtransport: false, ...options.node });
    try {
      await Promise.all(Array.from({ length: options.nodes ?? 3 }, () => cluster.startNode()));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The NATS client URLs every node is given. */
  get natsUrls(): string[] {
    return this.nats.map((server) => server.url);
  }

  /** Copies per stream and bucket: one per NATS server. */
  get replicas(): number {
    return this.nats.length;
  }

  /** One more node on the same NATS (`options` on top of the cluster's); resolves once it is healthy. */
  async startNode(options: SpawnServerOptions = {}): Promise<ServerProcess> {
    const base = this.#nodeOptions;
    const node = await spawnServer({
      // Made here: with the token keys elsewhere, nothing else creates it before the server opens files in it.
      dataDir: temporaryDirectory('cluster-node'),
      ...base,
      ...options,
      config: {
        ...base.config,
        ...options.config,
        auth: { token_keys: this.tokenKeys },
        cluster: { nats: this.natsUrls.join(','), replicas: this.replicas },
      },
    });
    this.nodes.push(node);
    void node.exited.then(() => this.#exited.add(node));
    await healthy(node);
    return node;
  }

  /**
   * Starts NATS server `index` again (after the test killed or stopped it) on
   * its port and data directory; the nodes reconnect on their own.
   */
  async restartNats(index: number): Promise<NatsServer> {
    const old = this.nats[index];
    if (old === undefined) throw new Error(`no NATS server ${index}`);
    await old.kill();
    const restarted = await old.restart();
    this.nats[index] = restarted;
    await restarted.jetstreamReady();
    return restarted;
  }

  /** The nodes still running. */
  get running(): ServerProcess[] {
    return this.nodes.filter((node) => !this.#exited.has(node));
  }

  /** Stops every node (SIGTERM, SIGKILL after 10 s), then removes the NATS servers and their files. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    await Promise.all(this.nats.map((server) => server.remove()));
  }
}

/** Polls `/healthz` until 200 (cluster mode connects to NATS in the background). */
async function healthy(node: ServerProcess): Promise<void> {
  const deadline = Date.now() + HEALTHY_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${node.baseUrl}/healthz`);
      last = await response.text();
      if (response.ok) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`node ${node.pid} not healthy within ${HEALTHY_MS} ms: ${last}\n${node.output()}`);
}

/**
 * A token keys file (edge/secret.ts, `pulse-token-keys/1`, mode 0600) with one
 * fresh key, as an operator hands the same file to every node of a cluster.
 */
function sharedTokenKeys(): string {
  const path = join(temporaryDirectory('cluster-keys'), 'token-keys');
  const key = { id: 1, createdAt: Date.now(), secret: randomBytes(32).toString('base64') };
  writeFileSync(path, `${JSON.stringify({ format: 'pulse-token-keys/1', keys: [key] })}\n`, { mode: 0o600 });
  return path;
}
