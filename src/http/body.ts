// Reads a request body with a size limit, so an oversized request is refused with 413
// before it is parsed.
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}

/**
 * The request's body, at once when all of it is already buffered: a small body usually comes in
 * the packet of the headers, and node:http has parsed it by the time a callback of the request
 * event's microtasks runs. Otherwise (or when read in the request event itself) it is awaited.
 */
export function readBody(req: IncomingMessage, limit: number): Buffer | Promise<Buffer> {
  const length = req.headers['content-length'];
  const declared = Number(length ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError());
  if (length !== undefined && declared > 0 && req.readableLength === declared && req.readableFlowing === null) {
    const body = req.read() as Buffer;
    // Flowing from here, as when read through listeners: the stream still ends (and closes).
    req.resume();
    return body;
  }
  return readBodyLater(req, limit);
}

function readBodyLater(req: IncomingMessage, limit: number): Promise<Buffer> {
  // Listeners, not `for await` (the stream's async iterator was a measurable share of a small
  // request), and anonymous ones (see DEVELOPERS.md on closures in request paths). Once settled,
  // later events change nothing.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // The rest is never read: the connection is closed (a declared oversize length gets its 413 before any reading).
      req.destroy();
      reject(new BodyTooLargeError());
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('The request was aborted before its body arrived.'));
    });
  });
}
