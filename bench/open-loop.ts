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
//
// The generator runs in a process of its own, started for the run with only the requests to send:
// in the benchmark's process, a garbage collection of what earlier runs left (autocannon's results,
// ETags) would stall the sending and count as the server's latency.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

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

/** What the generator's process is given: the spec with every request made beforehand. */
type GeneratorSpec = Omit<OpenLoopSpec, 'vary'> & { requests: { path?: string; body?: string }[] };

/** Runs the load from a fresh process of its own (see the top of this file). */
export async function runOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const { vary, ...rest } = spec;
  const total = Math.round(spec.rate * spec.durationSeconds);
  const input: GeneratorSpec = { ...rest, requests: Array.from({ length: total }, (_, n) => vary(n)) };
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--generator'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(JSON.stringify(input));
  const code = await exited;
  if (code !== 0) throw new Error(`the load generator exited with ${code}: ${output.slice(0, 500)}`);
  return JSON.parse(output) as OpenLoopResult;
}

async function generate(spec: GeneratorSpec): Promise<OpenLoopResult> {
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
      const { path, body } = spec.requests[n];
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

if (process.argv[2] === '--generator') {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => (input += chunk));
  process.stdin.on('end', () => {
    generate(JSON.parse(input) as GeneratorSpec).then(
      (result) => process.stdout.write(JSON.stringify(result)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
