import type { ServerProcess } from '@pulse/testing';

/** The SHA-256 of the server's WebTransport certificate, as it prints it at start (hex). */
export function certificateSha256Hex(server: ServerProcess): string {
  const hex = /certificate sha-256 ([0-9a-f]{64})/.exec(server.output())?.[1];
  if (hex === undefined) throw new Error('the server printed no certificate hash (is WebTransport on?)');
  return hex;
}

export function webTransportUrl(server: ServerProcess): string {
  if (server.webtransportPort === undefined) throw new Error('the server has no WebTransport port');
  return `https://127.0.0.1:${server.webtransportPort}/pulse/wt`;
}

/** `/metrics` (on the metrics listener) as series `name{labels}` → value. */
export async function scrapeMetrics(server: ServerProcess): Promise<Map<string, number>> {
  const text = await (await fetch(server.metricsUrl)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The sum of every series of `name` whose labels contain each of `labels` (e.g. `limit="rate"`). */
export function metricSum(metrics: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (labels.every((label) => series.includes(label))) sum += value;
  }
  return sum;
}

/** The server answers /healthz with 200 within 5 s. */
export async function isHealthy(server: ServerProcess): Promise<boolean> {
  try {
    const response = await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Tracks whether the process has exited (a crash) while a suite runs. */
export function exitWatch(server: ServerProcess): { readonly exited: () => string | undefined } {
  let status: string | undefined;
  void server.exited.then((s) => {
    status = String(s);
  });
  return { exited: () => status };
}
