// Load generation with autocannon (programmatic API), one request shape per run with a
// per-request variation (e.g. the identity) made by `vary`.
import autocannon, { type RawRequest, type Result } from 'autocannon';

export interface LoadSpec {
  title: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Builds each request's path, body and extra headers from a running request number. */
  vary: (n: number) => { path?: string; body?: string; headers?: Record<string, string> };
  connections: number;
  /** Seconds; or `amount` requests. */
  duration?: number;
  amount?: number;
  /** A cheap check of every response body (failures are counted as mismatches). */
  verifyBody?: (body: string) => boolean;
  /** The status every answer should have; default: any 2xx. */
  status?: number;
}

export interface LoadResult {
  title: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  durationSeconds: number;
  /** Connection errors, timeouts, non-2xx answers and failed body checks. */
  failures: number;
  raw: Result;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let n = 0;
  const headers = { 'content-type': 'application/json', ...spec.headers };
  const raw = await autocannon({
    title: spec.title,
    url: spec.url,
    connections: spec.connections,
    ...(spec.duration === undefined ? {} : { duration: spec.duration }),
    ...(spec.amount === undefined ? {} : { amount: spec.amount }),
    method: spec.method ?? 'POST',
    headers,
    timeout: 30,
    verifyBody: spec.verifyBody,
    requests: [
      {
        setupRequest(request: RawRequest) {
          const { path, body, headers: extra } = spec.vary(n++);
          return {
            ...request,
            ...(path === undefined ? {} : { path }),
            ...(body === undefined ? {} : { body }),
            ...(extra === undefined ? {} : { headers: { ...headers, ...extra } }),
          };
        },
      },
    ],
  });
  const stats = Object.entries(raw.statusCodeStats ?? {});
  const requests = stats.reduce((sum, [, { count }]) => sum + Number(count), 0);
  const unexpected = spec.status === undefined ? raw.non2xx : stats.reduce((sum, [code, { count }]) => sum + (Number(code) === spec.status ? 0 : Number(count)), 0);
  return {
    title: spec.title,
    requestsPerSecond: raw.requests.average,
    p50: raw.latency.p50,
    p99: raw.latency.p99,
    requests,
    durationSeconds: raw.duration,
    failures: raw.errors + raw.timeouts + unexpected + raw.mismatches,
    raw,
  };
}
