// `npx tsx bench/analytics.ts`: analytics at scale on PostgreSQL. Loads 1,000,000 exposures
// over 200,000 identities into a scratch database (set-based SQL), derives the Assignment
// rows, starts flagledger in a child process, then measures
//  - `experimentSummary` latency (median of several runs, whole range and a 7-day window);
//  - `GET /exports/exposures` throughput (rows/s) and the server's resident memory (VmRSS of
//    the child, sampled every 10 ms) during exports of 100,000 and of all 1,000,000 rows,
//    against its RSS before: flat memory means the peak does not grow with the row count.
// Prints a markdown table. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) or
// BENCH_DATABASE_URL (an admin connection); the scratch database is dropped at the end.
// BENCH_EXPOSURES / BENCH_IDENTITIES scale the data set; BENCH_RUNS the summary repetitions.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { dropDatabase, freshDatabase, scratchName, startChild } from './processes.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXPOSURES = Number(process.env.BENCH_EXPOSURES ?? 1_000_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PORT = 4831;
const ADMIN_TOKEN = 'flt_benchanalyticsbenchanalyticsbenchanalytic';
const DATABASE = 'flagledger_bench_analytics';

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

async function loadData(url: string): Promise<{ environmentId: number; featureName: string; maxId: bigint }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET work_mem = '256MB'`);
    const { rows: [target] } = await client.query<{ environmentId: number; featureId: number; name: string; a: number; b: number }>(`
      SELECT s."environmentId", f.id AS "featureId", f.name,
             (SELECT id FROM "MultivariateOption" WHERE "featureId" = f.id AND key = 'variant_a') AS a,
             (SELECT id FROM "MultivariateOption" WHERE "featureId" = f.id AND key = 'variant_b') AS b
      FROM "Feature" f JOIN "FeatureState" s ON s."featureId" = f.id
      JOIN "Environment" e ON e.id = s."environmentId"
      WHERE f.name = 'checkout_button' AND e.name = 'production'`);
    const started = performance.now();
    await client.query(
      `INSERT INTO "Identity" ("environmentId", identifier, "updatedAt")
       SELECT $1, 'user-' || g, now() FROM generate_series(1, $2::int) AS g`,
      [target.environmentId, IDENTITIES],
    );
    const { rows: [{ first }] } = await client.query<{ first: number }>(
      `SELECT min(id) AS first FROM "Identity" WHERE "environmentId" = $1`,
      [target.environmentId],
    );
    // Each identity has a stable bucket (34/33/33, like the demo weights); 2% of exposures
    // report another key (conflicts). Exposures spread over 30 days, roughly in id order.
    await client.query(
      `INSERT INTO "Exposure" ("environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt",
                               "eventId", "source", "matchesAssignment")
       SELECT $1, $2, CASE k.key WHEN 'variant_a' THEN $3::int WHEN 'variant_b' THEN $4::int END, k.key, $5::int + i.n,
              timestamptz '2026-01-01' + (g * (2592000.0 / $6::int)) * interval '1 second' + random() * interval '10 minutes',
              'evt-' || g, CASE WHEN g % 5 = 0 THEN 'SERVER'::"ExposureSource" ELSE 'CLIENT'::"ExposureSource" END, NOT k.stray
       FROM generate_series(0, $6::int - 1) AS g
       CROSS JOIN LATERAL (SELECT ((g::bigint * 7919) % $7::int)::int AS n) AS i
       CROSS JOIN LATERAL (SELECT random() < 0.02 AS stray, (i.n * 31) % 100 AS bucket) AS r
       CROSS JOIN LATERAL (SELECT r.stray,
         CASE WHEN r.stray THEN (ARRAY['variant_a', 'variant_b', 'control'])[1 + (g % 3)]
              WHEN r.bucket < 34 THEN 'variant_a' WHEN r.bucket < 67 THEN 'variant_b' ELSE 'control' END AS key) AS k`,
      [target.environmentId, target.featureId, target.a, target.b, first, EXPOSURES, IDENTITIES],
    );
    log(`inserted ${EXPOSURES} exposures over ${IDENTITIES} identities in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const derive = performance.now();
    await client.query(
      `INSERT INTO "Assignment" ("environmentId", "featureId", "identityId", "firstVariantKey", "firstExposedAt",
                                 "lastExposedAt", "exposureCount", "variantKeys", "updatedAt")
       SELECT "environmentId", "featureId", "identityId",
              (array_agg("variantKey" ORDER BY "exposedAt", id))[1], min("exposedAt"), max("exposedAt"), count(*)::int,
              array_agg(DISTINCT "variantKey" ORDER BY "variantKey"), now()
       FROM "Exposure" WHERE "environmentId" = $1 AND "featureId" = $2
       GROUP BY "environmentId", "featureId", "identityId"`,
      [target.environmentId, target.featureId],
    );
    log(`derived the Assignment rows in ${((performance.now() - derive) / 1000).toFixed(1)} s`);
    await client.query('VACUUM ANALYZE "Identity", "Exposure", "Assignment"');
    const { rows: [{ max }] } = await client.query<{ max: string }>(`SELECT max(id) AS max FROM "Exposure"`);
    return { environmentId: target.environmentId, featureName: target.name, maxId: BigInt(max) };
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${scratchName(name)}`;
  return url.toString();
}

async function existingData(url: string): Promise<{ environmentId: number; featureName: string; maxId: bigint }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: [row] } = await client.query<{ environmentId: number; max: string }>(
      `SELECT "environmentId", max(id) AS max FROM "Exposure" GROUP BY "environmentId"`,
    );
    return { environmentId: row.environmentId, featureName: 'checkout_button', maxId: BigInt(row.max) };
  } finally {
    await client.end();
  }
}

async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${PORT}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const SUMMARY = `query BenchSummary($environmentId: ID!, $feature: String!, $from: DateTime) {
  experimentSummary(environmentId: $environmentId, feature: $feature, from: $from) {
    totalIdentities conflictedIdentities srmPValue variants { variantKey exposures identities expectedShare }
  }
}`;

async function summaryLatency(variables: Record<string, unknown>): Promise<{ median: number; max: number; result: unknown }> {
  const result = await graphql(SUMMARY, variables); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await graphql(SUMMARY, variables);
    times.push(performance.now() - started);
  }
  return { median: median(times), max: Math.max(...times), result };
}

interface ExportRun {
  label: string;
  rows: number;
  seconds: number;
  baselineMiB: number;
  peakMiB: number;
  /** Peak RSS so far, after every tenth of the rows. */
  timeline: number[];
}

async function exportRun(label: string, pid: number, query: Record<string, string>, expectedRows: number): Promise<ExportRun> {
  const step = Math.max(1, Math.floor(expectedRows / 10));
  const timeline: number[] = [];
  // Let the heap settle so the baseline is not a leftover of the previous run.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const baselineMiB = rssMiB(pid);
  let peakMiB = baselineMiB;
  const sampler = setInterval(() => {
    peakMiB = Math.max(peakMiB, rssMiB(pid));
  }, 10);
  const started = performance.now();
  let rows = 0;
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/exports/exposures?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) {
        if (byte !== 10) continue;
        rows += 1;
        if (rows % step === 0) timeline.push(Math.max(peakMiB, rssMiB(pid)));
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  peakMiB = Math.max(peakMiB, rssMiB(pid));
  if (query.format === 'csv') rows -= 1; // the header
  return { label, rows, seconds, baselineMiB, peakMiB, timeline };
}

async function main(): Promise<void> {
  // BENCH_REUSE_DATABASE=1 with a database kept by BENCH_KEEP_DATABASE=1: skip the load.
  const reuse = process.env.BENCH_REUSE_DATABASE === '1';
  const url = reuse ? databaseUrl(DATABASE) : await freshDatabase(ADMIN_URL, DATABASE);
  let server: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    // node --import tsx: the child's pid is the server itself, whose memory is sampled.
    server = await startChild(
      'analytics-server',
      process.execPath,
      ['--import', 'tsx', 'src/server.ts'],
      { DATABASE_URL: url, PORT: String(PORT), HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'warn' },
      `http://127.0.0.1:${PORT}/ready`,
    );
    const pid = server.process.pid!;
    log('server ready; loading data');
    const data = reuse ? await existingData(url) : await loadData(url);
    const environmentId = Buffer.from(`Environment:${data.environmentId}`).toString('base64');

    const whole = await summaryLatency({ environmentId, feature: data.featureName });
    const week = await summaryLatency({ environmentId, feature: data.featureName, from: '2026-01-24T00:00:00.000Z' });
    log(`summary: median ${whole.median.toFixed(1)} ms (max ${whole.max.toFixed(1)}), 7-day window ${week.median.toFixed(1)} ms`);
    console.log(JSON.stringify(whole.result));

    const runs: ExportRun[] = [];
    if (process.env.BENCH_SKIP_EXPORTS === '1') return;
    const last100k = String(data.maxId > 100_000n ? data.maxId - 100_000n : 0n);
    const part = Math.min(100_000, EXPOSURES);
    runs.push(await exportRun('NDJSON, last 100,000 rows', pid, { environment: environmentId, after: last100k }, part));
    runs.push(await exportRun(`NDJSON, all ${EXPOSURES.toLocaleString('en')} rows`, pid, { environment: environmentId }, EXPOSURES));
    runs.push(await exportRun('CSV, last 100,000 rows', pid, { environment: environmentId, after: last100k, format: 'csv' }, part));
    runs.push(await exportRun(`CSV, all ${EXPOSURES.toLocaleString('en')} rows`, pid, { environment: environmentId, format: 'csv' }, EXPOSURES + 1));
    for (const run of runs) {
      log(`${run.label}: ${run.rows} rows in ${run.seconds.toFixed(1)} s, RSS ${run.baselineMiB.toFixed(0)} -> ${run.peakMiB.toFixed(0)} MiB`);
      log(`  peak RSS after each tenth: ${run.timeline.map((m) => m.toFixed(0)).join(', ')} MiB`);
    }

    const lines = [
      `### Analytics (${EXPOSURES.toLocaleString('en')} exposures, ${IDENTITIES.toLocaleString('en')} identities, PostgreSQL)`,
      '',
      '| measurement | result |',
      '|---|---:|',
      `| \`experimentSummary\`, whole range (median of ${RUNS}) | ${whole.median.toFixed(1)} ms (max ${whole.max.toFixed(1)} ms) |`,
      `| \`experimentSummary\`, 7-day window (median of ${RUNS}) | ${week.median.toFixed(1)} ms (max ${week.max.toFixed(1)} ms) |`,
      '',
      '| export | rows | rows/s | server RSS before | peak RSS during | growth |',
      '|---|---:|---:|---:|---:|---:|',
      ...runs.map(
        (r) =>
          `| ${r.label} | ${r.rows.toLocaleString('en')} | ${Math.round(r.rows / r.seconds).toLocaleString('en')} | ` +
          `${r.baselineMiB.toFixed(0)} MiB | ${r.peakMiB.toFixed(0)} MiB | ${(r.peakMiB - r.baselineMiB).toFixed(0)} MiB |`,
      ),
    ];
    console.log(`\n${lines.join('\n')}\n`);
  } finally {
    await server?.stop();
    if (process.env.BENCH_KEEP_DATABASE === '1') log(`kept the database ${url}`);
    else await dropDatabase(ADMIN_URL, DATABASE);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
