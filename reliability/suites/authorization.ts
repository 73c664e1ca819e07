/**
 * Authorization matrix, live: the matrix of reliability/authorization/matrix.ts
 * (also the vitest file server/test/behaviour/authorization-matrix.test.ts, in
 * process) against the server process, over WebSocket and over WebTransport.
 * Every cell must be refused with its code; the removed device's open
 * connection must be closed with AUTH_FAILED. Quick and full runs are the same.
 */
import { dialWebSocket, dialWebTransport } from '@pulse/testing';
import { PRINCIPALS, requestTypesWithoutRow, runAuthorizationMatrix } from '../authorization/matrix.ts';
import { runMode } from '../lib/mode.ts';
import { SuiteReport } from '../lib/report.ts';
import { certificateSha256Hex, webTransportUrl } from '../lib/server-figures.ts';
import { suiteServer } from '../lib/suite-server.ts';

const report = new SuiteReport('authorization matrix', runMode());
const server = await suiteServer({ webClient: false });
const transports = {
  websocket: dialWebSocket(server.websocketUrl),
  webtransport: dialWebTransport(
    webTransportUrl(server),
    new Uint8Array(Buffer.from(certificateSha256Hex(server), 'hex')),
  ),
};

const missing = requestTypesWithoutRow();
report.check(
  'a row for every request type of REQUEST_ANSWERS',
  missing.length === 0,
  missing.length ? `no row: ${missing.join(', ')}` : 'all present',
);
for (const [transport, open] of Object.entries(transports)) {
  const { world, results } = await runAuthorizationMatrix(open);
  const refused = results.filter((r) => r.holds).length;
  report.figure(
    `${transport} cells refused as expected`,
    `${refused}/${results.length} (${results.length / PRINCIPALS.length} request types × ${PRINCIPALS.length} principals)`,
  );
  for (const r of results.filter((c) => !c.holds)) {
    report.note(`${transport} ${r.type} / ${r.principal}: ${r.attempt}: expected ${r.expected}, got ${r.observed}`);
  }
  report.check(
    `${transport}: every cell refused with its code`,
    refused === results.length,
    `${results.length - refused} cells not refused as expected`,
  );
  report.check(
    `${transport}: the removed device's open connection is closed`,
    world.removedClosedWith === 'AUTH_FAILED',
    `close ${world.removedClosedWith}`,
  );
}
await server.stop();
report.finish();
