/**
 * Runs the lower layers' own benchmarks in a process of their own (each measures
 * both sides in one process, as `npm run bench:transport` and `bench:crypto` do):
 * webtransport/bench/transport.ts and crypto/bench/bench.ts.
 */
import type { CryptoBenchOptions } from '../../crypto/bench/bench.ts';
import type { TransportBenchOptions } from '../../webtransport/bench/transport.ts';
import { serveRequests } from '../lib/ipc.ts';

serveRequests({
  async transport(options: TransportBenchOptions) {
    const { measureTransport } = await import('../../webtransport/bench/transport.ts');
    return measureTransport(options);
  },
  async crypto(options: CryptoBenchOptions) {
    const { measureCrypto } = await import('../../crypto/bench/bench.ts');
    return measureCrypto(options);
  },
  async cryptoCeiling({ messages }: { messages: number }) {
    const { oneWayBurstRate } = await import('../../crypto/bench/bench.ts');
    return oneWayBurstRate(messages);
  },
});
