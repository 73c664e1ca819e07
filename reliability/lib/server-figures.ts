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

/** What the server itself saw over a window: its CPU share, its durable commits, its event loop. */
export interface ServerWindow {
  /** Server process CPU time over wall time (1 = one core busy). */
  readonly cpu: number;
  /** `send` → `sent` inside the server (the durable commit): count, mean, and the share over 100 ms. */
  readonly commits: number;
  readonly commitMeanMs: number;
  readonly commitsOver100Ms: number;
  /** The event loop's delay since the window began (prom-client's monitor, reset at each scrape). */
  readonly loopLagP99Ms: number;
  readonly loopLagMaxMs: number;
}

/**
 * Starts a server-side window (a /metrics scrape now); `finish()` scrapes again
 * and returns what happened in between. The server's own figures separate its
 * delays from the shared machine's: docs/reliability.md "Where the time goes".
 */
export async function serverWindow(server: ServerProcess): Promise<{ finish(): Promise<ServerWindow> }> {
  const commit = 'type="send_commit"';
  const read = async () => ({ at: performance.now(), metrics: await scrapeMetrics(server) });
  const start = await read();
  return {
    async finish() {
      const end = await read();
      const delta = (name: string, ...labels: string[]) =>
        metricSum(end.metrics, name, ...labels) - metricSum(start.metrics, name, ...labels);
      const commits = delta('pulse_latency_seconds_count', commit);
      const fast = delta('pulse_latency_seconds_bucket', commit, 'le="0.1"');
      return {
        cpu: delta('process_cpu_seconds_total') / ((end.at - start.at) / 1000),
        commits,
        commitMeanMs: commits === 0 ? 0 : (1000 * delta('pulse_latency_seconds_sum', commit)) / commits,
        commitsOver100Ms: commits === 0 ? 0 : (commits - fast) / commits,
        loopLagP99Ms: 1000 * metricSum(end.metrics, 'nodejs_eventloop_lag_p99_seconds'),
        loopLagMaxMs: 1000 * metricSum(end.metrics, 'nodejs_eventloop_lag_max_seconds'),
      };
    },
  };
}

/** A ServerWindow in one line. */
export function describeServerWindow(w: ServerWindow): string {
  return `server CPU ${(100 * w.cpu).toFixed(0)} % of a core, ${w.commits} durable commits (mean ${w.commitMeanMs.toFixed(1)} ms, ${(100 * w.commitsOver100Ms).toFixed(1)} % over 100 ms), event-loop delay p99 ${w.loopLagP99Ms.toFixed(1)} ms, max ${w.loopLagMaxMs.toFixed(1)} ms`;
}
