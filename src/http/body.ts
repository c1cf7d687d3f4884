// Reads a request body with a size limit, so an oversized request is refused with 413
// before it is parsed.
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError());
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
