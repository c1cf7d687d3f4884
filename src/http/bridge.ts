// Node <-> Fetch: the one translation between node:http and the Fetch API (Yoga, plain routes).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { HeaderReader } from '../auth/caller.js';

/**
 * The request's headers for reading one at a time (repeated headers joined), as Fetch's
 * `Headers.get` answers: node:http has them parsed and lower-cased already, and building a Fetch
 * `Headers` copies and validates every one of them (a measurable share of a 304).
 */
export function headerReader(req: IncomingMessage): HeaderReader {
  return new NodeHeaderReader(req.headers);
}

/** A class, not an object literal with a method: no closure made per request. */
class NodeHeaderReader implements HeaderReader {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
}

/** The request's headers as a plain record (repeated headers joined), for Yoga's Request. */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Writes a Fetch response to node:http: plain results in one write, streams (e.g. SSE) piped with backpressure. */
export async function sendFetchResponse(res: ServerResponse, response: Response, beforeBody?: (type: string) => void): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  const type = response.headers.get('content-type') ?? '';
  beforeBody?.(type);
  if (!response.body) return void res.end();
  if (type.startsWith('application/graphql-response+json') || type.startsWith('application/json') || type.startsWith('text/html')) {
    // Text: Yoga's bodies are strings already, and node:http sends a string with the headers in one write.
    res.end(await response.text());
    return;
  }
  // Yoga's Fetch API is a ponyfill (not Node's own ReadableStream): read it as an async iterable.
  const body = Readable.from(response.body as unknown as AsyncIterable<Uint8Array>, { objectMode: false });
  // A client that goes away ends the stream at its source too (a subscription's cleanup).
  res.on('close', () => body.destroy());
  await new Promise<void>((resolve, reject) => {
    body.on('error', reject).pipe(res).on('close', resolve).on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A GraphQL-shaped error answer (`errors[0].extensions.code`) for plain HTTP. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export function sendInvalidInput(res: ServerResponse, message: string): void {
  sendError(res, 400, 'INVALID_INPUT', message);
}
