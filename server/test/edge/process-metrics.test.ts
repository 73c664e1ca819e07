import { ListeningServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** prom-client's default metrics on the server's own registry (edge/metrics.ts): what an operator watches under load. */
describe('/metrics: the process', () => {
  let server: ListeningServer;
  beforeAll(async () => {
    server = await ListeningServer.start();
  });
  afterAll(() => server.stop());

  it('shows the process CPU time, resident memory, Node heap and event-loop delay', async () => {
    const text = await (await fetch(server.metricsUrl)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    const rss = /^process_resident_memory_bytes (\d+)/m.exec(text);
    expect(Number(rss?.[1])).toBeGreaterThan(1024 * 1024);
  });
});
