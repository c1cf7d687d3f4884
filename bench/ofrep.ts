// OFREP requests for the benchmarks: bulk evaluation of every flag for a context with a
// targetingKey, and the ETags of those contexts for the revalidation run.
import { Agent, request } from 'node:http';

export const OFREP_BULK_PATH = '/ofrep/v1/evaluate/flags';

export function ofrepBody(identifier: string): string {
  return JSON.stringify({ context: { targetingKey: identifier } });
}

/** The bulk answer for one context: its ETag and flags (fails on anything but 200). */
export async function ofrepBulkOnce(url: string, environmentKey: string, identifier: string): Promise<{ etag: string; flags: { key: string; variant?: string }[] }> {
  const response = await fetch(`${url}${OFREP_BULK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': environmentKey },
    body: ofrepBody(identifier),
  });
  const etag = response.headers.get('etag');
  const body = (await response.json()) as { flags?: { key: string; variant?: string }[] };
  if (response.status !== 200 || !etag || !body.flags) throw new Error(`OFREP bulk failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { etag, flags: body.flags };
}

/**
 * The ETag of each identity's context (`identifier(n)` for n < count), `concurrency` requests at
 * a time over kept-alive connections (node:http, bodies discarded: far lighter than fetch).
 */
export async function collectEtags(url: string, environmentKey: string, count: number, identifier: (n: number) => string, concurrency = 20): Promise<string[]> {
  const target = new URL(`${url}${OFREP_BULK_PATH}`);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const etagOf = (body: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, method: 'POST', path: target.pathname, headers: { 'content-type': 'application/json', 'x-api-key': environmentKey, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          const etag = res.headers.etag;
          res.on('end', () => (res.statusCode === 200 && etag ? resolve(etag) : reject(new Error(`OFREP bulk answered ${res.statusCode} without an ETag`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const etags = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      etags[n] = await etagOf(ofrepBody(identifier(n)));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return etags;
}
