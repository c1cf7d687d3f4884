// A TCP pass-through in front of PostgreSQL that counts the statements a client sends:
// every simple-protocol Query ('Q') and every extended-protocol Execute ('E') message.
// flagledger's benchmark server connects through it, so "SQL statements per request" is
// read off the wire, with nothing to configure inside the server.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface SqlCounter {
  /** The port to connect to instead of PostgreSQL's. */
  port: number;
  /** Statements sent so far, over all connections. */
  statements(): number;
  close(): Promise<void>;
}

/** Parses the frontend message stream of one connection, calling onStatement per Query/Execute. */
class FrontendParser {
  private buffer: Buffer = Buffer.alloc(0);
  private startup = true;

  constructor(private readonly onStatement: () => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.startup) {
        // StartupMessage / SSLRequest / CancelRequest: int32 length (self-inclusive), no type byte.
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        this.buffer = this.buffer.subarray(length);
        // An SSL or GSS request is answered with one byte and followed by the real startup.
        if (code !== 80877103 && code !== 80877104) this.startup = false;
        continue;
      }
      if (this.buffer.length < 5) return;
      const type = this.buffer[0];
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < 1 + length) return;
      if (type === 0x51 /* Q */ || type === 0x45 /* E */) this.onStatement();
      this.buffer = this.buffer.subarray(1 + length);
    }
  }
}

export async function startSqlCounter(target: { host: string; port: number }): Promise<SqlCounter> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    const parser = new FrontendParser(() => {
      count += 1;
    });
    client.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    statements: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
