// OFREP requests for the benchmarks: bulk evaluation of every flag for a context with a
// targetingKey, and the ETags of those contexts for the revalidation run.
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

/** The ETag of each identity's context (`identifier(n)` for n < count), `concurrency` requests at a time. */
export async function collectEtags(url: string, environmentKey: string, count: number, identifier: (n: number) => string, concurrency = 20): Promise<string[]> {
  const etags = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      etags[n] = (await ofrepBulkOnce(url, environmentKey, identifier(n))).etag;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return etags;
}
