import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET_BUFFERS, listenWebTransport, type WebTransportServer } from '../../src/node/index.ts';
import { testCertificate } from './echo-server.ts';

/** The kernel's ceiling for a socket buffer an unprivileged process asks for (Linux). */
const kernelMax = (name: 'rmem_max' | 'wmem_max'): number =>
  Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());

/** Linux doubles what is asked for (bookkeeping overhead), after capping it at the ceiling: socket(7). */
const granted = (asked: number, max: number): number => 2 * Math.min(asked, max);

describe('the UDP socket under many QUIC peers', () => {
  let server: WebTransportServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const listen = async (socketBuffers?: { receiveBytes: number; sendBytes: number }) =>
    listenWebTransport({
      host: '127.0.0.1',
      port: 0,
      certificate: await testCertificate(),
      paths: ['/echo'],
      ...(socketBuffers ? { socketBuffers } : {}),
      onSession: () => undefined,
    });

  it('asks the kernel for buffers far larger than its ~208 KiB default, so a busy moment does not drop packets', async () => {
    server = await listen();
    expect(server.socketBuffers.receiveBytes).toBe(granted(DEFAULT_SOCKET_BUFFERS.receiveBytes, kernelMax('rmem_max')));
    expect(server.socketBuffers.sendBytes).toBe(granted(DEFAULT_SOCKET_BUFFERS.sendBytes, kernelMax('wmem_max')));
    expect(server.socketBuffers.receiveBytes).toBeGreaterThan(212_992);
  });

  it('takes the sizes an operator configures', async () => {
    server = await listen({ receiveBytes: 1024 * 1024, sendBytes: 512 * 1024 });
    expect(server.socketBuffers).toEqual({
      receiveBytes: granted(1024 * 1024, kernelMax('rmem_max')),
      sendBytes: granted(512 * 1024, kernelMax('wmem_max')),
    });
  });
});
