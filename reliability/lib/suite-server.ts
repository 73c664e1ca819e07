import { type ServerProcess, type SpawnServerOptions, spawnServer } from '@pulse/testing';

const started = new Set<ServerProcess>();
let hooked = false;

/**
 * `spawnServer`, and SIGKILL (by its pid) for every server this suite started
 * when its process exits in any way, a failed assertion or an uncaught error
 * included: a suite never leaves a server behind.
 */
export async function suiteServer(options: SpawnServerOptions): Promise<ServerProcess> {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const server of started) server.kill('SIGKILL');
    });
  }
  const server = await spawnServer(options);
  started.add(server);
  void server.exited.then(() => started.delete(server));
  return server;
}
