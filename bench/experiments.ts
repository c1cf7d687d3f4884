// `npx tsx bench/experiments.ts [--write]`: experiments on PostgreSQL, in one run:
//   (e) recordExposures, 1000 items per request, 4 concurrent, for features under a running
//       experiment (every exposure stamped, its iteration's assignment kept), against
//   (n) the same for features without one; interleaved slices, same server: target e/n >= 90%
//       (exposures reporting each identity's assigned key, and again with random keys);
//   (r) Experiment.results over an iteration of 1,000,000 exposures, loaded with SQL
//       (generate_series, shaped as bench/analytics.ts shapes them), its ExperimentAssignment rows
//       derived from them in SQL: median latency, target < 500 ms; and
//       checked equal to a recount from the raw Exposure rows (the recount's time is printed too).
// Prints the `## Experiments` section of BENCHMARKS.md; `--write` puts it there (replacing it).
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) or BENCH_DATABASE_URL (an admin
// connection); the scratch database flagledger_bench_experiments is created and dropped.
// BENCH_SLICE_REQUESTS (requests per measured slice, default 12), BENCH_EXPOSURES (default 1,000,000),
// BENCH_IDENTITIES (default 200,000), BENCH_RUNS (results repetitions, default 9),
// BENCH_KEEP_DATABASE=1 (keep the scratch database, e.g. to EXPLAIN its queries).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { adminGraphQL, startFlagledger } from './flagledger.js';
import { type LoadResult, runLoad } from './load.js';
import { dropDatabase, freshDatabase, sleep } from './processes.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXPOSURES = Number(process.env.BENCH_EXPOSURES ?? 1_000_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const DATABASE = 'flagledger_bench_experiments';
/** Not used by the other benchmarks (run.ts 4801-4821, analytics.ts 4831, exposures.ts 4861). */
const PORT = Number(process.env.BENCH_EXPERIMENTS_PORT ?? 4871);
const BATCH = 1000;
const CONNECTIONS = 4;
const ROUNDS = 3;
/** Requests per slice: a fixed amount, timed, so that a slice means something however slow the machine is. */
const SLICE_REQUESTS = Number(process.env.BENCH_SLICE_REQUESTS ?? 12);
/** Identities reporting exposures in (e) and (n). */
const WRITE_IDENTITIES = 20_000;
/** Features per side of (e)/(n), each with variant_a/b/c (30/30/30, control 10). */
const FEATURES = 3;
const KEYS = ['variant_a', 'variant_b', 'variant_c', 'control'];
const RUN = randomBytes(4).toString('hex');

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const BATCH_QUERY =
  'mutation Batch($input: RecordExposuresInput!) { recordExposures(input: $input) { __typename ' +
  '... on RecordExposuresPayload { accepted duplicates rejected results { index status exposure { id iteration } error { code message } } } ' +
  '... on Error { code message } } }';

/**
 * Which key an exposure reports: `assigned`, the identity's own bucket (30/30/30/10, as the
 * allocation splits them) with 2% of exposures reporting another key, as clients report what
 * they were served (and as (r)'s data is shaped); `random`, any key each time (nearly every
 * identity soon conflicted).
 */
type KeyMode = 'assigned' | 'random';
const KEY_MODES: KeyMode[] = ['assigned', 'random'];

function keyOf(mode: KeyMode, identity: number): string {
  if (mode === 'random' || Math.random() < 0.02) return KEYS[Math.floor(Math.random() * KEYS.length)];
  const bucket = (identity * 31) % 100;
  return bucket < 30 ? 'variant_a' : bucket < 60 ? 'variant_b' : bucket < 90 ? 'variant_c' : 'control';
}

let sequence = 0;
/** 1000 exposures of the side's features, random identities, seen in the last 2 s. */
function batchBody(side: 'on' | 'off', prefix: string, mode: KeyMode): string {
  const now = Date.now();
  const exposures = Array.from({ length: BATCH }, () => {
    const identity = Math.floor(Math.random() * WRITE_IDENTITIES);
    return {
      feature: `${side}_${Math.floor(Math.random() * FEATURES)}`,
      identifier: `user-${identity}`,
      variantKey: keyOf(mode, identity),
      exposedAt: new Date(now - Math.floor(Math.random() * 2000)).toISOString(),
      eventId: `${prefix}-${RUN}-${sequence++}`,
    };
  });
  return JSON.stringify({ query: BATCH_QUERY, variables: { input: { exposures } } });
}

/** Request n of the warm-up: the next 1000 (feature, identity) pairs of the side, each once. */
function warmUpBody(side: 'on' | 'off', n: number): string {
  const now = Date.now();
  const exposures = Array.from({ length: BATCH }, (_, i) => {
    const pair = n * BATCH + i;
    const identity = pair % WRITE_IDENTITIES;
    return {
      feature: `${side}_${Math.floor(pair / WRITE_IDENTITIES) % FEATURES}`,
      identifier: `user-${identity}`,
      variantKey: keyOf('assigned', identity),
      exposedAt: new Date(now - Math.floor(Math.random() * 2000)).toISOString(),
      eventId: `warm-${side}-${RUN}-${pair}`,
    };
  });
  return JSON.stringify({ query: BATCH_QUERY, variables: { input: { exposures } } });
}

async function createFeature(url: string, projectId: string, name: string): Promise<void> {
  const { createFeature } = await adminGraphQL<{ createFeature: { __typename: string; message?: string } }>(
    url,
    `mutation ($input: CreateFeatureInput!) { createFeature(input: $input) { __typename ... on Error { message } } }`,
    {
      input: {
        projectId,
        name,
        initialValue: 'off',
        defaultEnabled: true,
        options: ['variant_a', 'variant_b', 'variant_c'].map((key) => ({ key, value: key, defaultWeight: 30 })),
      },
    },
  );
  if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(`createFeature: ${createFeature.message}`);
}

async function runningExperiment(url: string, environmentId: string, feature: string): Promise<string> {
  const { createExperiment } = await adminGraphQL<{ createExperiment: { experiment?: { id: string }; message?: string } }>(
    url,
    `mutation ($input: CreateExperimentInput!) { createExperiment(input: $input) { ... on CreateExperimentPayload { experiment { id } } ... on Error { message } } }`,
    { input: { environmentId, feature, name: `${feature} experiment` } },
  );
  if (!createExperiment.experiment) throw new Error(`createExperiment: ${createExperiment.message}`);
  const { startExperiment } = await adminGraphQL<{ startExperiment: { __typename: string } }>(
    url,
    `mutation ($input: StartExperimentInput!) { startExperiment(input: $input) { __typename } }`,
    { input: { id: createExperiment.experiment.id } },
  );
  if (startExperiment.__typename !== 'StartExperimentPayload') throw new Error(`startExperiment: ${startExperiment.__typename}`);
  return createExperiment.experiment.id;
}

async function seed(url: string): Promise<{ key: string; resultsExperiment: string }> {
  const { createProject } = await adminGraphQL<{ createProject: { project?: { id: string; environments: { id: string; key: string }[] } } }>(
    url,
    `mutation ($input: CreateProjectInput!) { createProject(input: $input) { ... on CreateProjectPayload { project { id environments { id key } } } } }`,
    { input: { name: 'Experiments bench', environments: ['production'] } },
  );
  if (!createProject.project) throw new Error('createProject failed');
  const { id: projectId, environments } = createProject.project;
  for (let i = 0; i < FEATURES; i++) {
    await createFeature(url, projectId, `on_${i}`);
    await createFeature(url, projectId, `off_${i}`);
    await runningExperiment(url, environments[0].id, `on_${i}`);
  }
  await createFeature(url, projectId, 'results_feature');
  const resultsExperiment = await runningExperiment(url, environments[0].id, 'results_feature');
  return { key: environments[0].key, resultsExperiment };
}

/** 1,000,000 exposures of iteration 1 of the results experiment, and its assignment rows, in SQL. */
async function loadIteration(client: pg.Client): Promise<{ insertSeconds: number; deriveSeconds: number; assignments: number }> {
  await client.query(`SET work_mem = '256MB'`);
  const { rows: [target] } = await client.query<{ experimentId: number; environmentId: number; featureId: number; a: number; b: number; c: number }>(`
    SELECT x.id AS "experimentId", x."environmentId", x."featureId",
           (SELECT id FROM "MultivariateOption" WHERE "featureId" = x."featureId" AND key = 'variant_a') AS a,
           (SELECT id FROM "MultivariateOption" WHERE "featureId" = x."featureId" AND key = 'variant_b') AS b,
           (SELECT id FROM "MultivariateOption" WHERE "featureId" = x."featureId" AND key = 'variant_c') AS c
    FROM "Experiment" x JOIN "Feature" f ON f.id = x."featureId" WHERE f.name = 'results_feature'`);
  if (!target) {
    const { rows } = await client.query(`SELECT f.name, x.id, x.status FROM "Feature" f LEFT JOIN "Experiment" x ON x."featureId" = f.id`);
    throw new Error(`no experiment on results_feature: ${JSON.stringify(rows)}`);
  }
  // The iteration has run for 30 days; the exposures spread over them, roughly in id order.
  await client.query(`UPDATE "ExperimentIteration" SET "startedAt" = now() - interval '30 days' WHERE "experimentId" = $1`, [target.experimentId]);
  const started = performance.now();
  await client.query(
    `INSERT INTO "Identity" ("environmentId", identifier, "updatedAt")
     SELECT $1, 'results-user-' || g, now() FROM generate_series(1, $2::int) AS g`,
    [target.environmentId, IDENTITIES],
  );
  // One statement, nothing else creating identities meanwhile: consecutive ids from the first.
  const { rows: [{ first }] } = await client.query<{ first: number }>(`SELECT min(id) AS first FROM "Identity" WHERE identifier LIKE 'results-user-%'`);
  // Each identity has a stable bucket (30/30/30/10, the allocation); 2% of exposures report
  // another key (conflicts).
  await client.query(
    `INSERT INTO "Exposure" ("environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt",
                             "eventId", "source", "matchesAssignment", "experimentId", "iteration")
     SELECT $1, $2, CASE k.key WHEN 'variant_a' THEN $3::int WHEN 'variant_b' THEN $4::int WHEN 'variant_c' THEN $5::int END, k.key, $6::int + i.n,
            now() - interval '30 days' + (g * (2592000.0 / $7::int)) * interval '1 second' - random() * interval '10 minutes' + interval '10 minutes',
            'results-' || g, CASE WHEN g % 5 = 0 THEN 'SERVER'::"ExposureSource" ELSE 'CLIENT'::"ExposureSource" END, NOT k.stray, $9::int, 1
     FROM generate_series(0, $7::int - 1) AS g
     CROSS JOIN LATERAL (SELECT ((g::bigint * 7919) % $8::int)::int AS n) AS i
     CROSS JOIN LATERAL (SELECT random() < 0.02 AS stray, (i.n * 31) % 100 AS bucket) AS r
     CROSS JOIN LATERAL (SELECT r.stray,
       CASE WHEN r.stray THEN (ARRAY['variant_a', 'variant_b', 'variant_c', 'control'])[1 + (g % 4)]
            WHEN r.bucket < 30 THEN 'variant_a' WHEN r.bucket < 60 THEN 'variant_b' WHEN r.bucket < 90 THEN 'variant_c' ELSE 'control' END AS key) AS k`,
    [target.environmentId, target.featureId, target.a, target.b, target.c, first, EXPOSURES, IDENTITIES, target.experimentId],
  );
  const insertSeconds = (performance.now() - started) / 1000;
  const derive = performance.now();
  // The rows the exposure statement keeps, from the stamped exposures (results are checked
  // against a recount from the raw rows below).
  await client.query(`DELETE FROM "ExperimentAssignment" WHERE "experimentId" = $1`, [target.experimentId]);
  const derived = await client.query(
    `INSERT INTO "ExperimentAssignment" ("experimentId", "iteration", "identityId", "firstVariantKey", "firstExposedAt", "firstExposureId", "conflicted")
     SELECT "experimentId", "iteration", "identityId", (array_agg("variantKey" ORDER BY "exposedAt", id))[1], min("exposedAt"),
            (array_agg(id ORDER BY "exposedAt", id))[1], count(DISTINCT "variantKey") > 1
     FROM "Exposure" WHERE "experimentId" = $1 AND "iteration" = 1 GROUP BY 1, 2, 3`,
    [target.experimentId],
  );
  const deriveSeconds = (performance.now() - derive) / 1000;
  await client.query('VACUUM ANALYZE "Identity", "Exposure", "ExperimentAssignment"');
  return { insertSeconds, deriveSeconds, assignments: derived.rowCount ?? 0 };
}

interface Variant {
  key: string;
  exposures: number;
  identities: number;
  conflictedIdentities: number;
}

const RESULTS = `query BenchResults($id: ID!) {
  node(id: $id) { ... on Experiment { results(iteration: 1) {
    exposures identities conflictedIdentities variants { key exposures identities conflictedIdentities observedShare expectedShare } srm { pValue status }
  } } }
}`;

/** The per-key counts recounted from the raw exposures (what results used to run, per request). */
async function recount(client: pg.Client, experimentId: number): Promise<{ variants: Variant[]; seconds: number }> {
  const started = performance.now();
  const [exposures, identities] = await Promise.all([
    client.query<{ key: string; n: string }>(
      `SELECT "variantKey" AS key, count(*) AS n FROM "Exposure" WHERE "experimentId" = $1 AND iteration = 1 GROUP BY 1`,
      [experimentId],
    ),
    client.query<{ key: string; identities: string; conflicted: string }>(
      `SELECT first AS key, count(*) AS identities, count(*) FILTER (WHERE keys > 1) AS conflicted FROM (
         SELECT (array_agg("variantKey" ORDER BY "exposedAt", id))[1] AS first, count(DISTINCT "variantKey") AS keys
         FROM "Exposure" WHERE "experimentId" = $1 AND iteration = 1 GROUP BY "identityId") per_identity GROUP BY 1`,
      [experimentId],
    ),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const variants = KEYS.map((key) => {
    const counted = identities.rows.find((row) => row.key === key);
    return {
      key,
      exposures: Number(exposures.rows.find((row) => row.key === key)?.n ?? 0),
      identities: Number(counted?.identities ?? 0),
      conflictedIdentities: Number(counted?.conflicted ?? 0),
    };
  });
  return { variants, seconds };
}

interface Totals {
  requests: number;
  seconds: number;
  p99: number;
  failures: number;
}

function add(totals: Totals | undefined, result: LoadResult): Totals {
  return {
    requests: (totals?.requests ?? 0) + result.requests,
    seconds: (totals?.seconds ?? 0) + result.durationSeconds,
    p99: Math.max(totals?.p99 ?? 0, result.p99),
    failures: (totals?.failures ?? 0) + result.failures,
  };
}

async function main(): Promise<void> {
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const databaseUrl = await freshDatabase(ADMIN_URL, DATABASE);
  const server = await startFlagledger('flagledger-experiments', databaseUrl, PORT);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { key, resultsExperiment } = await seed(server.url);
    const url = `${server.url}/graphql`;
    const headers = { 'x-environment-key': key };
    const ok = (body: string) => body.includes(`"accepted":${BATCH},`);

    // Every report is at most 2 s old: let the experiments' first iterations be older than that.
    await sleep(2500);
    // Steady state: every identity has seen every feature once (its identity, Assignment and
    // ExperimentAssignment rows exist), as in a running experiment most exposures are of identities
    // already in it.
    log(`warm-up: ${WRITE_IDENTITIES} identities seen on every feature of both sides`);
    for (const side of ['on', 'off'] as const) {
      await runLoad({ title: `warm-up ${side}`, url, headers, connections: CONNECTIONS, amount: (FEATURES * WRITE_IDENTITIES) / BATCH, vary: (n) => ({ body: warmUpBody(side, n) }), verifyBody: ok });
    }
    const totals = new Map<KeyMode, { e?: Totals; n?: Totals }>(KEY_MODES.map((mode) => [mode, {}]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which mode and which side go first, so that a drift in load hits all alike.
      for (const mode of round % 2 ? KEY_MODES : [...KEY_MODES].reverse()) {
        log(`round ${round}/${ROUNDS}, ${mode} keys: (e) under experiments and (n) without; ${SLICE_REQUESTS} requests each`);
        // Timed from the start to the last response: autocannon notices the end of an `amount` run
        // only at its next 1-second sample, so its own duration is whole seconds (a slice lasts a few).
        const slice = async (side: 'on' | 'off', title: string): Promise<LoadResult> => {
          const started = performance.now();
          let last = started;
          const verifyBody = (body: string) => {
            last = performance.now();
            return ok(body);
          };
          const result = await runLoad({ title, url, headers, connections: CONNECTIONS, amount: SLICE_REQUESTS, vary: () => ({ body: batchBody(side, `${mode}${title}${round}`, mode) }), verifyBody });
          return { ...result, durationSeconds: (last - started) / 1000 };
        };
        const sides = totals.get(mode)!;
        if (round % 2) {
          sides.e = add(sides.e, await slice('on', 'e'));
          sides.n = add(sides.n, await slice('off', 'n'));
        } else {
          sides.n = add(sides.n, await slice('off', 'n'));
          sides.e = add(sides.e, await slice('on', 'e'));
        }
      }
    }
    const measured = new Map<KeyMode, { e: Totals; n: Totals; eRate: number; nRate: number }>();
    for (const mode of KEY_MODES) {
      const { e, n } = totals.get(mode) as { e: Totals; n: Totals };
      const eRate = (e.requests * BATCH) / e.seconds;
      const nRate = (n.requests * BATCH) / n.seconds;
      measured.set(mode, { e, n, eRate, nRate });
      log(`${mode} keys: (e) ${fmt(eRate)} exposures/s, p99 ${e.p99} ms; (n) ${fmt(nRate)} exposures/s, p99 ${n.p99} ms; e/n ${((100 * eRate) / nRate).toFixed(0)}%`);
    }
    const { rows: [stamped] } = await client.query<{ stamped: string; unstamped: string; assignments: string }>(`
      SELECT count(*) FILTER (WHERE f.name LIKE 'on\\_%' AND x."experimentId" IS NOT NULL) AS stamped,
             count(*) FILTER (WHERE f.name LIKE 'on\\_%' AND x."experimentId" IS NULL) AS unstamped,
             (SELECT count(*) FROM "ExperimentAssignment") AS assignments
      FROM "Exposure" x JOIN "Feature" f ON f.id = x."featureId"`);
    if (Number(stamped.unstamped) !== 0) throw new Error(`${stamped.unstamped} exposures under a running experiment were not stamped`);

    log(`loading ${fmt(EXPOSURES)} exposures over ${fmt(IDENTITIES)} identities into one iteration`);
    const loaded = await loadIteration(client);
    log(`inserted in ${loaded.insertSeconds.toFixed(1)} s; ${fmt(loaded.assignments)} ExperimentAssignment rows derived in ${loaded.deriveSeconds.toFixed(1)} s`);
    const experimentId = Number(Buffer.from(resultsExperiment, 'base64').toString().split(':')[1]);
    type Results = { node: { results: { exposures: number; identities: number; conflictedIdentities: number; variants: Variant[]; srm: { status: string } } } };
    const first = await adminGraphQL<Results>(server.url, RESULTS, { id: resultsExperiment });
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await adminGraphQL<Results>(server.url, RESULTS, { id: resultsExperiment });
      times.push(performance.now() - started);
    }
    const raw = await recount(client, experimentId);
    const served = first.node.results.variants.map(({ key, exposures, identities, conflictedIdentities }) => ({ key, exposures, identities, conflictedIdentities }));
    const equal = JSON.stringify(served) === JSON.stringify(raw.variants);
    if (!equal) throw new Error(`results differ from the recount:\n${JSON.stringify(served)}\n${JSON.stringify(raw.variants)}`);
    const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    log(`results: median ${median(times).toFixed(1)} ms (max ${Math.max(...times).toFixed(1)}); recount over Exposure ${(raw.seconds * 1000).toFixed(0)} ms; equal`);

    const ratio = (mode: KeyMode) => ((100 * measured.get(mode)!.eRate) / measured.get(mode)!.nRate).toFixed(0);
    const section = [
      '## Experiments',
      '',
      `Measured by \`npx tsx bench/experiments.ts\` on PostgreSQL, ${new Date().toISOString().slice(0, 10)}, everything on this one machine`,
      `(load average ${loadBefore} before, ${loadAfter} after: other work was running; compare the ratio, not the rates).`,
      '',
      `- (e) \`recordExposures\`, ${BATCH} items per request, ${CONNECTIONS} concurrent, over ${FEATURES} features each under a running`,
      '  experiment: every exposure is stamped with its iteration and folded into that iteration\'s ExperimentAssignment',
      '  rows in the same statement (where it changes them). Keys: `assigned`, each identity its own bucket (30/30/30/10)',
      '  with 2% of exposures reporting another key, as clients report what they were served; `random`, any key every',
      '  time (nearly every identity conflicted, its assignment row changed until it is).',
      `- (n) the same for ${FEATURES} features without an experiment, same server, after every identity has seen every feature`,
      `  once (the steady state of a running experiment); ${ROUNDS} rounds of interleaved slices of ${SLICE_REQUESTS} requests per side and key mode,`,
      '  each timed from its first request to its last response.',
      `- (r) \`Experiment.results\` over one iteration of ${fmt(EXPOSURES)} exposures of ${fmt(IDENTITIES)} identities (2% of exposures`,
      '  report another key), loaded with SQL (`generate_series`, stamped with the iteration), its ExperimentAssignment',
      `  rows derived from them in SQL (${fmt(loaded.assignments)} rows, ${loaded.deriveSeconds.toFixed(1)} s); GraphQL over HTTP, median of ${RUNS}.`,
      '',
      '| run | result |',
      '|---|---:|',
      ...KEY_MODES.flatMap((mode) => {
        const { e, n, eRate, nRate } = measured.get(mode)!;
        return [
          `| (e) under a running experiment, ${mode} keys | ${fmt(eRate)} exposures/s (p99 ${e.p99} ms${e.failures ? `, ${e.failures} failed` : ''}) |`,
          `| (n) without, ${mode} keys | ${fmt(nRate)} exposures/s (p99 ${n.p99} ms${n.failures ? `, ${n.failures} failed` : ''}) |`,
        ];
      }),
      `| (r) \`results\`, ${fmt(EXPOSURES)} exposures | **${median(times).toFixed(1)} ms** (max ${Math.max(...times).toFixed(1)} ms; target < 500 ms) |`,
      `| recount of the same from the raw Exposure rows (SQL only, for reference) | ${(raw.seconds * 1000).toFixed(0)} ms |`,
      '',
      `**(e) / (n) = ${ratio('assigned')}%** with assigned keys (target ≥ 90%); ${ratio('random')}% with random keys.`,
      `Every exposure of (e) was stamped (${fmt(Number(stamped.stamped))});`,
      `the results equal the recount, variant by variant (exposures, identities by first exposure, conflicted identities).`,
      '',
    ].join('\n');
    console.log(`\n${section}`);
    if (process.argv.includes('--write')) writeSection('BENCHMARKS.md', section);
  } finally {
    await client.end();
    await server.child.stop();
    if (process.env.BENCH_KEEP_DATABASE === '1') log(`kept the database ${databaseUrl}`);
    else await dropDatabase(ADMIN_URL, DATABASE);
  }
}

/** Puts the section in BENCHMARKS.md, replacing an earlier `## Experiments`, else at the end. */
function writeSection(path: string, section: string): void {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const start = previous.indexOf('\n## Experiments');
  if (start < 0) return writeFileSync(path, `${previous.trimEnd()}\n\n${section.trimEnd()}\n`);
  const rest = previous.slice(start + 1);
  const next = rest.slice('## Experiments'.length).search(/\n## /);
  const after = next < 0 ? '' : rest.slice('## Experiments'.length + next + 1);
  writeFileSync(path, `${previous.slice(0, start + 1)}${section.trimEnd()}\n${after ? `\n${after}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
