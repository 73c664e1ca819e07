import { freePort } from './free-port.ts';
import { NatsServer } from './nats-server.ts';

/**
 * `size` nats-server processes in one JetStream cluster on 127.0.0.1: each
 * names the others as routes (README "Cluster mode": the production setup,
 * with streams of 3 replicas). Resolves once every server's JetStream answers.
 */
export async function startNatsCluster(size = 3, name = 'pulse-test'): Promise<NatsServer[]> {
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) routePorts.push(await freePort());
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`);
  const servers = await Promise.all(
    routePorts.map((port, i) =>
      NatsServer.start({
        serverName: `${name}-${i + 1}`,
        cluster: { name, port, routes: routes.filter((_, j) => j !== i) },
      }),
    ),
  );
  try {
    await Promise.all(servers.map((server) => server.jetstreamReady()));
  } catch (error) {
    await Promise.all(servers.map((server) => server.remove()));
    throw error;
  }
  return servers;
}
