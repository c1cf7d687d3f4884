// The latency floor of this machine: plain node:http answering every request with a constant
// body the size of an OFREP bulk answer (no framework, no evaluation). Whatever latency it shows
// at the offered rate is the machine's (scheduling, loopback), not flagledger's.
// A request with If-None-Match is answered 304 with no body, as a revalidation would be with no work
// at all: how many of those node:http and this machine can answer is the ceiling of run (r).
// Usage: PORT=4812 BODY_BYTES=9000 node bench/plain-server.ts (tsx or Node's type stripping)
import { createServer } from 'node:http';

const body = Buffer.alloc(Number(process.env.BODY_BYTES ?? 9000), 'x');
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.headers['if-none-match'] !== undefined) {
      res.writeHead(304, { etag: req.headers['if-none-match'] });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
}).listen(Number(process.env.PORT ?? 4812), '127.0.0.1');
