import { spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { ServerLimits } from '@pulse/server';
import type { ServerProcess } from '@pulse/testing';
import { Child } from './child.ts';

/**
 * The servers a workload measures, each in its own process so its CPU time is
 * its own: the real Pulse server (`npm start`'s program, via @pulse/testing's
 * spawnServer), nats-server, and the baseline Node servers (bench/servers/).
 */

/** Pulse's per-client limits opened wide: the load generators are many clients on a few addresses. */
export const BENCH_LIMITS: Partial<ServerLimits> = {
  maxConnections: 40_000,
  maxConnectionsPerIp: 40_000,
  rate: 1_000_000,
  rateBurst: 1_000_000,
  rateBytes: 1024 * 1024 * 1024,
  rateBytesBurst: 1024 * 1024 * 1024,
  authAttempts: 1_000_000,
  prekeyFetches: 1_000_000,
  queuePerDevice: 10_000_000,
  // Sealed sends go over anonymous connections (PROTOCOL.md "Anonymous connections"): all generators share few addresses.
  maxAnonymousPerIp: 40_000,
  anonymousSendRate: 1_000_000,
  anonymousSendBurst: 1_000_000,
  anonymousSendRatePerIp: 1_000_000,
  anonymousSendBurstPerIp: 1_000_000,
};

export interface PulseUnderTest {
  readonly server: ServerProcess;
  readonly pid: number;
  readonly baseUrl: string;
  readonly websocketUrl: string;
  readonly webtransportUrl: string;
  /** The WebTransport certificate's SHA-256 (from /pulse/info), for dialing by hash. */
  readonly certificateSha256: number[];
}

/**
 * The heartbeat of a bench server: an hour. The generators' bare protocol
 * clients count frames without decoding them, so they never answer the server's
 * `ping`; with the default (45 s timeout) the server would close subscribers that
 * wait while the other systems are set up.
 */
const HOUR = 3_600_000;
export const BENCH_HEARTBEAT = { interval: HOUR, timeout: 2 * HOUR };

export interface PulseOptions {
  readonly limits?: Partial<ServerLimits>;
  readonly heartbeat?: { interval: number; timeout: number };
  /** Writes the server's CPU profile (V8's, as --cpu-prof) into this directory when it exits. */
  readonly cpuProfileDir?: string;
}

/**
 * `[server]` keys that open the unauthenticated-connection gate as wide as the
 * connection limits: every generator connection waits to authenticate at once.
 */
const BENCH_SERVER_KEYS: Record<string, number> = { max_unauthenticated: 40_000, max_unauthenticated_per_ip: 40_000 };

/**
 * Starts the Pulse server (WebSocket and WebTransport on 127.0.0.1) with
 * BENCH_LIMITS under `options.limits`. A server that does not know one of the
 * suite's keys yet (an older tree: they were added since) refuses it as unknown;
 * it is started again without that key.
 */
export async function startPulse(options: PulseOptions = {}): Promise<PulseUnderTest> {
  let limits: Record<string, number> = { ...BENCH_LIMITS, ...options.limits };
  let serverKeys = { ...BENCH_SERVER_KEYS };
  for (;;) {
    try {
      return await spawnPulse(options, limits, serverKeys);
    } catch (error) {
      const unknown = /config (limits|server)\.([a-z_]+): unknown key/.exec(String(error));
      if (unknown === null) throw error;
      const [, section, key] = unknown as unknown as [string, string, string];
      if (section === 'server') serverKeys = Object.fromEntries(Object.entries(serverKeys).filter(([k]) => k !== key));
      else
        limits = Object.fromEntries(
          Object.entries(limits).filter(([k]) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) !== key),
        );
    }
  }
}

async function spawnPulse(
  options: PulseOptions,
  limits: Record<string, number>,
  serverKeys: Record<string, number>,
): Promise<PulseUnderTest> {
  // Loaded here, not at the top: the baselines run even while the tree's Pulse packages do not load.
  const { spawnServer } = await import('@pulse/testing');
  const before = { NODE_OPTIONS: process.env.NODE_OPTIONS, BENCH_CPU_PROFILE_DIR: process.env.BENCH_CPU_PROFILE_DIR };
  // spawnServer passes this process's environment on: set the profiler's just for this spawn.
  if (options.cpuProfileDir !== undefined) {
    const preload = new URL('./cpu-profiler-preload.mjs', import.meta.url).href;
    process.env.NODE_OPTIONS = `${before.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    process.env.BENCH_CPU_PROFILE_DIR = options.cpuProfileDir;
  }
  const starting = spawnServer({
    webClient: false,
    limits,
    heartbeat: options.heartbeat ?? BENCH_HEARTBEAT,
    config: { log: { level: 'warn' }, server: serverKeys },
  });
  for (const [name, value] of Object.entries(before)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const server = await starting;
  const info = (await (await fetch(`${server.baseUrl}/pulse/info`)).json()) as {
    webtransport: { url: string; serverCertificateHashes: { value: string }[] } | null;
  };
  if (info.webtransport === null) throw new Error('the Pulse server did not start WebTransport');
  const hash = info.webtransport.serverCertificateHashes[0]?.value ?? '';
  return {
    server,
    pid: server.pid,
    baseUrl: server.baseUrl,
    websocketUrl: server.websocketUrl,
    webtransportUrl: info.webtransport.url,
    certificateSha256: [...Buffer.from(hash, 'base64')],
  };
}

/** A TCP port free on 127.0.0.1 right now (asked of the OS). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

export interface NatsUnderTest {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

export const NATS_SERVER = process.env.BENCH_NATS_SERVER ?? '/usr/sbin/nats-server';

/** Starts Debian's nats-server (core NATS, no JetStream) on a free loopback port; stopped by its pid. */
export async function startNats(): Promise<NatsUnderTest> {
  const port = await freePort();
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${NATS_SERVER} did not start`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let tries = 0; !(await accepts(port)); tries++) {
    if (tries > 100 || child.exitCode !== null) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid,
    url: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

/** A baseline server in bench/servers/ (a Child answering `listen` with its URL). */
export async function startBaselineServer(name: string, module: string): Promise<{ child: Child; url: string }> {
  const child = await Child.start(name, module);
  const url = await child.request<string>('listen');
  return { child, url };
}

/** Pulse nodes in cluster mode on one `nats-server -js` (JetStream, R1), each its own process. */
export interface ClusterUnderTest {
  /** Each node's pid and WebSocket URL (the nodes run without WebTransport). */
  readonly nodes: readonly { readonly pid: number; readonly websocketUrl: string }[];
  readonly natsPid: number;
  /** The NATS client URL (`nats://127.0.0.1:PORT`). */
  readonly natsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `nodes` Pulse server processes sharing one NATS (@pulse/testing/cluster's
 * PulseCluster: free ports, one token keys file, stopped by pid) with the
 * suite's limits and heartbeat.
 */
export async function startPulseCluster(nodes: number): Promise<ClusterUnderTest> {
  const { PulseCluster } = await import('@pulse/testing/cluster');
  const cluster = await PulseCluster.start({
    nodes,
    natsServers: 1,
    node: {
      webClient: false,
      webtransport: false,
      limits: BENCH_LIMITS,
      heartbeat: BENCH_HEARTBEAT,
      config: { log: { level: 'warn' }, server: BENCH_SERVER_KEYS },
    },
  });
  const nats = cluster.nats[0];
  return {
    nodes: cluster.nodes.map((node) => ({ pid: node.pid, websocketUrl: node.websocketUrl })),
    natsPid: nats?.pid ?? -1,
    natsUrl: nats?.url ?? '',
    stop: () => cluster.stop(),
  };
}

/** Debian's `nats-server -js` alone (JetStream, R1) on free ports, its data in a temporary directory. */
export async function startJetStream(): Promise<NatsUnderTest> {
  const { NatsServer } = await import('@pulse/testing/cluster');
  const server = await NatsServer.start();
  await server.jetstreamReady();
  return { pid: server.pid ?? -1, url: server.url, stop: () => server.remove() };
}
