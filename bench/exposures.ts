// `npx tsx bench/exposures.ts`: the exposure log's write path on PostgreSQL, in one run:
//   (a) recordExposures, 1000 items per request, 4 concurrent: exposures/s
//   (b) the raw ceiling: the same rows straight through `pg`, 4 concurrent, with the best
//       set-based SQL found (every variant of bench/exposures-raw.ts is measured; the best is (b))
//   (c) recordExposure, one item per request, 50 concurrent: req/s and p99
//   (d) the Yoga ceiling: `{ __typename }` on the same server, 50 concurrent
//   (b1) the database's ceiling for (c)'s work: the server's own statement for one row sent
//       straight through `pg`, 50 concurrent connections: rows/s
// Targets: (a) >= 50% of (b); (c) >= 40% of (d) and >= 50% of (b1). Prints a markdown table.
// `npm run bench` measures (c), (d) and (b1) too (benchSingleReports), once per run.
//
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) or BENCH_DATABASE_URL (an admin
// connection); the scratch database flagledger_bench_exposures is created and dropped.
// BENCH_DURATION (seconds per measured run, default 15), BENCH_WARMUP (default 5).
import pg from 'pg';
import { startFlagledger } from './flagledger.js';
import { batchBody as batchOf, FEATURES, IDENTITIES, type Item, item, seedExposureProject, singleBody, singleOk } from './exposure-load.js';
import { RAW_VARIANTS, type RawBatch, type RawContext, rawContext, singleRowStatement } from './exposures-raw.js';
import { type LoadResult, runLoad } from './load.js';
import { dropDatabase, freshDatabase } from './processes.js';
import { pathToFileURL } from 'node:url';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const DATABASE = 'flagledger_bench_exposures';
/** Not used by the other benchmarks (bench/run.ts 4801-4821, bench/analytics.ts 4831). */
const PORT = Number(process.env.BENCH_EXPOSURES_PORT ?? 4861);
const BATCH = 1000;
const BATCH_CONNECTIONS = 4;
const SINGLE_CONNECTIONS = 50;
/** Each measured run is split into this many slices, interleaved with the runs it is compared with. */
const ROUNDS = 3;

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

const batchBody = (prefix: string) => batchOf(prefix, BATCH);

interface RawResult {
  name: string;
  rows: number;
  seconds: number;
  latencies: number[];
}

/** `connections` workers, each writing batches back to back for `seconds`. */
async function runRaw(pool: pg.Pool, context: RawContext, variant: RawBatch, name: string, seconds: number, prefix: string): Promise<RawResult> {
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let rows = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: BATCH_CONNECTIONS }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          // Built as the server gets them: the client's JSON, parsed.
          const items = (JSON.parse(JSON.stringify({ items: Array.from({ length: BATCH }, () => item(prefix)) })) as { items: Item[] }).items;
          const t = performance.now();
          const written = await variant(client, context, items);
          latencies.push(performance.now() - t);
          rows += written; // not `rows += await ...`: that reads rows before the await
        }
      } finally {
        client.release();
      }
    }),
  );
  return { name, rows, seconds: (Date.now() - started) / 1000, latencies };
}

/** (b1): `connections` workers, each sending single-row statements back to back for `seconds`. */
async function runSingleRows(pool: pg.Pool, context: RawContext, seconds: number, prefix: string): Promise<LoadResult> {
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let rows = 0;
  let failures = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: SINGLE_CONNECTIONS }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          // Built as the server gets it: the client's JSON, parsed.
          const one = JSON.parse(JSON.stringify(item(prefix))) as Item;
          const t = performance.now();
          const written = await singleRowStatement(client, context, one);
          latencies.push(performance.now() - t);
          if (written === 1) rows += 1;
          else failures += 1;
        }
      } finally {
        client.release();
      }
    }),
  );
  const durationSeconds = (Date.now() - started) / 1000;
  const sorted = latencies.sort((x, y) => x - y);
  const at = (q: number) => Math.round(sorted[Math.floor(sorted.length * q)] ?? 0);
  return { title: '(b1)', requestsPerSecond: rows / durationSeconds, p50: at(0.5), p99: at(0.99), requests: rows, durationSeconds, failures, raw: undefined as never };
}

/** Runs measured in slices, interleaved round by round, so that drift in machine load hits all alike. */
class Totals {
  private readonly raw = new Map<string, RawResult>();
  private readonly loads = new Map<string, LoadResult[]>();

  addRaw(result: RawResult): void {
    const total = this.raw.get(result.name);
    if (!total) this.raw.set(result.name, { ...result, latencies: [...result.latencies] });
    else {
      total.rows += result.rows;
      total.seconds += result.seconds;
      total.latencies.push(...result.latencies);
    }
  }

  addLoad(name: string, result: LoadResult): void {
    this.loads.set(name, [...(this.loads.get(name) ?? []), result]);
  }

  rawRates(): { name: string; perSecond: number; batches: number; p99: number }[] {
    return [...this.raw.values()].map((r) => {
      const sorted = [...r.latencies].sort((x, y) => x - y);
      return { name: r.name, perSecond: r.rows / r.seconds, batches: sorted.length, p99: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? 0) };
    });
  }

  /** Requests per second over all slices; p50 the median of the slices', p99 the worst slice's. */
  load(name: string): Summary {
    const results = this.loads.get(name) ?? [];
    const requests = results.reduce((sum, r) => sum + r.requests, 0);
    const seconds = results.reduce((sum, r) => sum + r.durationSeconds, 0);
    const p50s = results.map((r) => r.p50).sort((x, y) => x - y);
    return {
      perSecond: requests / seconds,
      p50: p50s[Math.floor(p50s.length / 2)] ?? 0,
      p99: Math.max(0, ...results.map((r) => r.p99)),
      failures: results.reduce((sum, r) => sum + r.failures, 0),
    };
  }
}

interface Summary {
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function portInUse(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

export interface SingleReports {
  /** (c) recordExposure, one item per request. */
  c: Summary;
  /** (d) `{ __typename }` on the same server. */
  d: Summary;
  /** (b1) the server's single-row statement straight through `pg`, rows/s. */
  b1: Summary;
}

/** (c), (d) and (b1) at 50 connections, in interleaved slices. */
async function measureSingle(url: string, headers: Record<string, string>, databaseUrl: string, context: RawContext, warmup: number, duration: number): Promise<SingleReports> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: SINGLE_CONNECTIONS });
  try {
    const typename = JSON.stringify({ query: '{ __typename }' });
    const totals = new Totals();
    const slice = Math.max(1, Math.round(duration / ROUNDS));
    await runLoad({ title: 'warm-up c', url, headers, connections: SINGLE_CONNECTIONS, duration: warmup, vary: () => ({ body: singleBody('warm-c') }) });
    await runLoad({ title: 'warm-up d', url, connections: SINGLE_CONNECTIONS, duration: warmup, vary: () => ({ body: typename }) });
    await runSingleRows(pool, context, Math.min(warmup, 2), 'warm-b1');
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: (c) recordExposure, (d) { __typename }, (b1) raw single rows; ${SINGLE_CONNECTIONS} connections, ${slice} s each`);
      totals.addLoad('c', await runLoad({ title: '(c)', url, headers, connections: SINGLE_CONNECTIONS, duration: slice, vary: () => ({ body: singleBody(`c${round}`) }), verifyBody: singleOk }));
      totals.addLoad('d', await runLoad({ title: '(d)', url, connections: SINGLE_CONNECTIONS, duration: slice, vary: () => ({ body: typename }), verifyBody: (body) => body.includes('"Query"') }));
      totals.addLoad('b1', await runSingleRows(pool, context, slice, `b1-${round}`));
    }
    const [c, d, b1] = [totals.load('c'), totals.load('d'), totals.load('b1')];
    log(`  (c) ${fmt(c.perSecond)} req/s, p99 ${c.p99} ms, ${c.failures} failures; (d) ${fmt(d.perSecond)} req/s; (b1) ${fmt(b1.perSecond)} rows/s`);
    return { c, d, b1 };
  } finally {
    await pool.end();
  }
}

/**
 * For `npm run bench`: (c), (d) and (b1) on a server of their own (scratch database, the
 * exposure bench project, every identity seen first).
 */
export async function benchSingleReports(options: { warmup: number; duration: number }): Promise<SingleReports> {
  if (await portInUse(PORT)) throw new Error(`port ${PORT} is in use: set BENCH_EXPOSURES_PORT`);
  const databaseUrl = await freshDatabase(ADMIN_URL, DATABASE);
  const server = await startFlagledger('flagledger-exposures', databaseUrl, PORT);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const key = await seedExposureProject(server.url);
    const url = `${server.url}/graphql`;
    const headers = { 'x-environment-key': key };
    const context = await rawContext(pool, key);
    log(`single reports: every one of ${IDENTITIES} identities seen first`);
    await runLoad({ title: 'warm-up', url, headers, connections: BATCH_CONNECTIONS, amount: (IDENTITIES / BATCH) * 5, vary: () => ({ body: batchBody('warm') }) });
    return await measureSingle(url, headers, databaseUrl, context, options.warmup, options.duration);
  } finally {
    await pool.end();
    await server.child.stop();
    await dropDatabase(ADMIN_URL, DATABASE);
  }
}

async function main(): Promise<void> {
  if (await portInUse(PORT)) throw new Error(`port ${PORT} is in use: set BENCH_EXPOSURES_PORT`);
  const databaseUrl = await freshDatabase(ADMIN_URL, DATABASE);
  const server = await startFlagledger('flagledger-exposures', databaseUrl, PORT);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: BATCH_CONNECTIONS });
  try {
    const key = await seedExposureProject(server.url);
    const url = `${server.url}/graphql`;
    const headers = { 'x-environment-key': key };
    const context = await rawContext(pool, key);
    const batchOk = (body: string) => body.includes(`"accepted":${BATCH},`);

    log(`warm-up: every one of ${IDENTITIES} identities seen`);
    await runLoad({ title: 'warm-up', url, headers, connections: BATCH_CONNECTIONS, amount: (IDENTITIES / BATCH) * 5, vary: () => ({ body: batchBody('warm') }), verifyBody: batchOk });
    for (const [name, variant] of Object.entries(RAW_VARIANTS)) await runRaw(pool, context, variant, name, Math.min(WARMUP, 2), `warm-raw-${name}`);

    const totals = new Totals();
    const slice = Math.max(1, Math.round(DURATION / ROUNDS));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: (b) raw pg, each variant, then (a) recordExposures; ${slice} s each`);
      for (const [name, variant] of Object.entries(RAW_VARIANTS)) totals.addRaw(await runRaw(pool, context, variant, name, slice, `raw${round}-${name}`));
      totals.addLoad('a', await runLoad({ title: '(a)', url, headers, connections: BATCH_CONNECTIONS, duration: slice, vary: () => ({ body: batchBody(`a${round}`) }), verifyBody: batchOk }));
    }
    const raw = totals.rawRates();
    for (const r of raw) log(`  (b) ${r.name}: ${fmt(r.perSecond)} exposures/s (${r.batches} batches, p99 ${r.p99} ms)`);
    const a = totals.load('a');
    log(`  (a) ${fmt(a.perSecond * BATCH)} exposures/s, p99 ${a.p99} ms, ${a.failures} failures`);

    const { c, d, b1 } = await measureSingle(url, headers, databaseUrl, context, WARMUP, DURATION);

    const counts = await pool.query<{ exposures: string; assignments: string }>(
      'SELECT (SELECT count(*) FROM "Exposure") AS exposures, (SELECT count(*) FROM "Assignment") AS assignments',
    );
    console.log(report(a, raw, c, d, b1, counts.rows[0]));
  } finally {
    await pool.end();
    await server.child.stop();
    await dropDatabase(ADMIN_URL, DATABASE);
  }
}

function report(
  a: Summary,
  raw: ReturnType<Totals['rawRates']>,
  c: Summary,
  d: Summary,
  b1: Summary,
  counts: { exposures: string; assignments: string },
): string {
  const best = raw.reduce((x, y) => (y.perSecond > x.perSecond ? y : x));
  const aRate = a.perSecond * BATCH;
  const pct = (x: number, y: number) => `${Math.round((100 * x) / y)}%`;
  const failures = (r: Summary) => (r.failures ? ` (${r.failures} failed)` : '');
  return [
    '',
    `### Exposure log writes (PostgreSQL, ${DURATION} s per run in ${ROUNDS} interleaved slices, ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| run | concurrency | throughput | p50 | p99 |',
    '|---|---|---|---|---|',
    `| (a) \`recordExposures\`, ${BATCH} items per request | ${BATCH_CONNECTIONS} | **${fmt(aRate)} exposures/s** (${a.perSecond.toFixed(1)} req/s)${failures(a)} | ${a.p50} ms | ${a.p99} ms |`,
    ...raw.map(
      (r) =>
        `| (b) raw \`pg\`, ${r.name}${r === best ? ': the ceiling' : ''} | ${BATCH_CONNECTIONS} | ${r === best ? '**' : ''}${fmt(r.perSecond)} exposures/s${r === best ? '**' : ''} | | ${r.p99} ms |`,
    ),
    `| (c) \`recordExposure\`, one item per request | ${SINGLE_CONNECTIONS} | **${fmt(c.perSecond)} req/s**${failures(c)} | ${c.p50} ms | ${c.p99} ms |`,
    `| (d) \`{ __typename }\`, same server | ${SINGLE_CONNECTIONS} | ${fmt(d.perSecond)} req/s${failures(d)} | ${d.p50} ms | ${d.p99} ms |`,
    `| (b1) raw \`pg\`, the server's statement for one row | ${SINGLE_CONNECTIONS} | ${fmt(b1.perSecond)} rows/s${failures(b1)} | ${b1.p50} ms | ${b1.p99} ms |`,
    '',
    `(a)/(b) = **${pct(aRate, best.perSecond)}** (target ≥ 50%); (c)/(d) = **${pct(c.perSecond, d.perSecond)}** (target ≥ 40%); (c)/(b1) = **${pct(c.perSecond, b1.perSecond)}** (target ≥ 50%).`,
    `Every write includes the identity lookup/creation, the eventId conflict check and the Assignment upsert; ${IDENTITIES.toLocaleString('en-US')} identities, ${FEATURES} features, unique eventIds. ` +
      `Rows at the end: ${Number(counts.exposures).toLocaleString('en-US')} exposures, ${Number(counts.assignments).toLocaleString('en-US')} Assignment rows.`,
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
