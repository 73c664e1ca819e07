/**
 * The messages between the suite and its child processes (load generators and
 * baseline servers): a request names a command and carries JSON-like arguments;
 * the answer carries its result or an error message.
 */
export interface IpcRequest {
  readonly id: number;
  readonly command: string;
  readonly args: unknown;
}

export type IpcAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** A child's commands: each gets the request's arguments and answers with a JSON-like result. */
export type Handlers = Record<string, (args: never) => unknown>;

/**
 * Runs in a child process: answers the parent's requests with `handlers` until
 * the parent disconnects (then the process exits, whatever it still holds).
 */
export function serveRequests(handlers: Handlers): void {
  if (process.send === undefined) throw new Error('a bench child process must be started by the suite (fork)');
  const send = process.send.bind(process);
  process.on('message', (message: IpcRequest) => {
    const handler = handlers[message.command];
    void (async () => {
      try {
        if (handler === undefined) throw new Error(`unknown command ${message.command}`);
        const result = await (handler as (args: unknown) => unknown)(message.args);
        send({ id: message.id, ok: true, result: result ?? null } satisfies IpcAnswer);
      } catch (error) {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        send({ id: message.id, ok: false, error: text } satisfies IpcAnswer);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  send({ id: 0, ok: true, result: 'ready' } satisfies IpcAnswer);
}
