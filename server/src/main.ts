// Placeholder entry point until the server issue lands: answers /healthz so that
// `npm start` starts something on a fresh clone.
import { createServer } from 'node:http';

const port = Number(process.env.PULSE_PORT ?? 8080);
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  res.writeHead(404).end();
});
server.listen(port, '127.0.0.1', () => console.log(`pulse: listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
