/** Runs `body` against the server `start` gives, and always stops it (a failing body included). */
export async function withServer<S extends { stop(): Promise<void> }>(
  start: () => S | Promise<S>,
  body: (server: S) => Promise<void>,
): Promise<void> {
  const server = await start();
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}
