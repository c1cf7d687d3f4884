// Latency at a constant offered rate, corrected for coordinated omission: the i-th request is
// due at start + i / rate whatever happened to the ones before, and its latency is counted
// from that intended time (as wrk2 does), so a stall shows up in every request it delayed.
//
// Why not a library: autocannon's `overallRate` sends each connection's share of a second in a
// burst at the start of the second and then waits for the next second (bursts, not a constant
// rate), and its correction (`recordValueWithExpectedInterval(latency, ceil(1 / rate))`) uses an
// interval of 1 ms whatever the rate. Debian has wrk, not wrk2, and `hey -q` throttles workers
// that each wait for their response (closed loop). loadtest's `--rps` times each request from its
// actual send, opens a connection per request unless told otherwise, and buckets latencies by
// whole milliseconds. The percentiles here are exact: every latency is kept (rate × duration values).
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OpenLoopSpec {
  title: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Requests per second offered, evenly spaced. */
  rate: number;
  durationSeconds: number;
  /** Most connections open at once; a request due while all are busy waits (and that wait counts). */
  connections: number;
  vary: (n: number) => { path?: string; body?: string };
  /** Expected status (default 200); anything else is a failure. */
  status?: number;
}

export interface OpenLoopResult {
  title: string;
  rate: number;
  /** Responses per second over the run, as achieved. */
  achievedRate: number;
  requests: number;
  failures: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Latest actual send behind its intended time (the generator's own lag, ms). */
  maxSendLag: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

export async function runOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const total = Math.round(spec.rate * spec.durationSeconds);
  const interval = 1000 / spec.rate;
  const latencies = new Float64Array(total);
  let completed = 0;
  let failures = 0;
  let maxSendLag = 0;
  let sent = 0;
  let lastDone = 0;
  const start = performance.now();

  const done = new Promise<void>((resolve) => {
    const finish = (intended: number, ok: boolean) => {
      const now = performance.now();
      lastDone = now;
      if (ok) latencies[completed++] = now - intended;
      else failures++;
      if (completed + failures === total) resolve();
    };
    const send = (n: number, intended: number) => {
      const { path, body } = spec.vary(n);
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: spec.method ?? 'POST',
          path: path ?? target.pathname,
          headers: { 'content-type': 'application/json', ...spec.headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          res.resume();
          res.on('end', () => finish(intended, res.statusCode === (spec.status ?? 200)));
          res.on('error', () => finish(intended, false));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => finish(intended, false));
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now; each keeps its own intended time.
      while (sent < total && start + sent * interval <= now) {
        const intended = start + sent * interval;
        maxSendLag = Math.max(maxSendLag, now - intended);
        send(sent, intended);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  await done;
  agent.destroy();

  const measured = latencies.subarray(0, completed).sort();
  const at = (q: number) => (measured.length === 0 ? Number.NaN : measured[Math.min(measured.length - 1, Math.ceil(q * measured.length) - 1)]);
  return {
    title: spec.title,
    rate: spec.rate,
    achievedRate: (completed + failures) / ((lastDone - start) / 1000),
    requests: completed + failures,
    failures,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: measured.length === 0 ? Number.NaN : measured[measured.length - 1],
    maxSendLag,
  };
}
