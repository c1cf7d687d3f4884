// `npm run bench`: flagledger's flags evaluation against a bare Yoga + Pothos baseline and
// against Unleash, on the local PostgreSQL, in one run; writes BENCHMARKS.md.
//
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) or BENCH_DATABASE_URL (an
// admin connection; scratch databases flagledger_bench and unleash_bench are created and
// dropped). Installs unleash-server into .bench/unleash on the first run (npm registry).
// BENCH_DURATION (seconds per measured run, default 15), BENCH_WARMUP (seconds of load before
// each server's first measured run, default 15: V8 keeps optimising for that long).
// BENCH_RUNS (default 3): whole runs one after the other; each also measures single exposure
// reports (bench/exposures.ts (c), (d), (b1)), and BENCHMARKS.md gets every run's ratios and
// their spread (the flags tables are the last run's).
import pg from 'pg';
import { benchTraits, flagsBody, flagsOnce, seedBenchProject, seedBenchTargeting, startFlagledger, targetedFlagsBody } from './flagledger.js';
import { runLoad, type LoadResult } from './load.js';
import { collectEtags, OFREP_BULK_PATH, ofrepBody, ofrepBulkOnce } from './ofrep.js';
import { type OpenLoopResult, runOpenLoop } from './open-loop.js';
import { dropDatabase, freshDatabase, sleep, startChild } from './processes.js';
import { benchSingleReports } from './exposures.js';
import { describeMachine, type FlagsReport, flagsSection, type OfrepReport, recordRun, type RepeatRun, runsBlock, type SqlProbe, writeBenchmarks } from './report.js';
import { startSqlCounter } from './sql-counter.js';
import { installUnleash, startUnleash, seedUnleash, UNLEASH_FRONTEND_TOKEN, unleashFrontendOnce } from './unleash.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 15);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const CONNECTIONS = 50;
/** The constant offered rate of the latency runs (requests per second). */
const OFFERED_RATE = 1000;
const FEATURES = 100;
const MULTIVARIATE = 20;
/** Returning identities; all are seen in the warm-up, well within a minute of the measured run. */
const IDENTITIES = 10_000;
/** The targeted run: segments of 3-5 conditions, segment overrides, identities with 5 traits. */
const SEGMENTS = 20;
const SEGMENT_OVERRIDES = 10;

const PORTS = { flagledger: 4801, flagledgerNoCache: 4802, baseline: 4811, plain: 4812, unleash: 4821 };

function randomUser(): string {
  return `user-${Math.floor(Math.random() * IDENTITIES)}`;
}

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function summary(r: LoadResult): string {
  return `${r.title}: ${Math.round(r.requestsPerSecond)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.requests} requests, ${r.failures} failures`;
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0].server_version.split(' ')[0]}`;
  } finally {
    await client.end();
  }
}

/** Sequential requests, counting the statements the server sent meanwhile. */
async function probe(what: string, statements: () => number, requests: number, send: (i: number) => Promise<void>): Promise<SqlProbe> {
  const before = statements();
  for (let i = 0; i < requests; i++) await send(i);
  await sleep(100); // identity upserts are flushed right after a request; nothing should trail
  return { what, requests, statements: statements() - before };
}

function summaryOpenLoop(r: OpenLoopResult): string {
  return `${r.title}: offered ${r.rate} req/s, achieved ${Math.round(r.achievedRate)}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, ${r.failures} failures, send lag ≤ ${r.maxSendLag.toFixed(1)} ms`;
}

/** Two runs of one kind as one: rates weighted by duration, the worse p99, p50 averaged likewise. */
function joinLoads(x: LoadResult, y: LoadResult): LoadResult {
  const seconds = x.durationSeconds + y.durationSeconds;
  const weighted = (a: number, b: number) => (a * x.durationSeconds + b * y.durationSeconds) / seconds;
  return {
    title: x.title,
    requestsPerSecond: weighted(x.requestsPerSecond, y.requestsPerSecond),
    p50: Math.round(weighted(x.p50, y.p50) * 100) / 100,
    p99: Math.max(x.p99, y.p99),
    requests: x.requests + y.requests,
    durationSeconds: seconds,
    failures: x.failures + y.failures,
    raw: y.raw,
  };
}

/**
 * OFREP on the server (a) just measured, same identities: (o) bulk evaluation, (r) revalidation
 * with each context's ETag, (r0) plain node:http answering the same revalidations (the ceiling of
 * (r)), then latency at a constant offered rate for `flags`, OFREP bulk and plain node:http (p).
 */
async function benchOfrep(base: string, environmentKey: string, statements: () => number): Promise<{ report: OfrepReport; loadSql: SqlProbe[] }> {
  const sample = await ofrepBulkOnce(base, environmentKey, 'sanity');
  const withVariant = sample.flags.filter((flag) => flag.variant !== undefined).length;
  if (sample.flags.length !== FEATURES || withVariant !== MULTIVARIATE) throw new Error(`unexpected OFREP flags: ${sample.flags.length} flags, ${withVariant} with a variant`);
  const url = `${base}${OFREP_BULK_PATH}`;
  const headers = { 'x-api-key': environmentKey };
  // Plain node:http on the same cores: (r0), the ceiling of (r), and (p), the latency floor.
  const bodyBytes = Buffer.byteLength(JSON.stringify({ flags: sample.flags, eventStreams: [{ type: 'sse', url }] }));
  const plainUrl = `http://127.0.0.1:${PORTS.plain}/`;
  const plain = await startChild('plain', process.execPath, ['--import', 'tsx', 'bench/plain-server.ts'], { PORT: String(PORTS.plain), BODY_BYTES: String(bodyBytes) }, plainUrl);
  try {
    const verifyBody = (body: string) => body.startsWith('{"flags":[{');
    const vary = () => ({ body: ofrepBody(randomUser()) });
    if (WARMUP > 0) await runLoad({ title: 'warm-up (o)', url, headers, connections: CONNECTIONS, duration: WARMUP, vary });
    log(`(r) OFREP revalidation: collecting the ETags of ${IDENTITIES} contexts`);
    const etags = await collectEtags(base, environmentKey, IDENTITIES, (n) => `user-${n}`);
    const revalidate = () => {
      const n = Math.floor(Math.random() * IDENTITIES);
      return { body: ofrepBody(`user-${n}`), headers: { 'if-none-match': etags[n] } };
    };
    // (o) and (r) in halves, in the order o, r, r, o: this machine's speed drifts over tens of
    // seconds, and measured one after the other the two would see different shares of it.
    const half = Math.max(1, Math.round(DURATION / 2));
    const measureO = () => runLoad({ title: '(o) OFREP bulk', url, headers, connections: CONNECTIONS, duration: half, vary, verifyBody });
    const measureR = () => runLoad({ title: '(r) OFREP 304', url, headers, connections: CONNECTIONS, duration: half, vary: revalidate, verifyBody: (body) => body === '', status: 304 });
    log('(o) OFREP bulk evaluation and (r) revalidation, returning identities, in halves: o, r, r, o');
    let before = statements();
    const o1 = await measureO();
    const oStatements = statements() - before;
    const r1 = await measureR();
    const r2 = await measureR();
    before = statements();
    const o2 = await measureO();
    const o = joinLoads(o1, o2);
    const r = joinLoads(r1, r2);
    const loadSql: SqlProbe[] = [{ what: 'load (o): OFREP bulk, returning identities, warm cache', requests: o.requests, statements: oStatements + statements() - before }];
    log(summary(o));
    log(summary(r));
    log('(r0) plain node:http answering the same revalidations 304');
    const r0 = await runLoad({ title: '(r0) plain 304', url: plainUrl, headers, connections: CONNECTIONS, duration: half, vary: revalidate, verifyBody: (body) => body === '', status: 304 });
    log(summary(r0));

    // Latency at a constant offered rate, far below either ceiling: what a caller waits.
    const latency: OpenLoopResult[] = [];
    for (const [title, path, requestHeaders, body] of [
      ['(a) flagledger `flags`', '/graphql', { 'x-environment-key': environmentKey }, flagsBody],
      ['(o) OFREP bulk', OFREP_BULK_PATH, headers, ofrepBody],
    ] as const) {
      // Every identity once first: all are returning ones (seen within the minute) during the run.
      await runLoad({ title: `sweep ${title}`, url: `${base}${path}`, headers: requestHeaders, connections: CONNECTIONS, amount: IDENTITIES, vary: (n) => ({ body: body(`user-${n % IDENTITIES}`) }) });
      const varyRequest = () => ({ body: body(randomUser()) });
      log(`latency at ${OFFERED_RATE} req/s: ${title}`);
      before = statements();
      const result = await runOpenLoop({ title, url: `${base}${path}`, headers: requestHeaders, rate: OFFERED_RATE, durationSeconds: DURATION, connections: CONNECTIONS, vary: varyRequest });
      latency.push(result);
      loadSql.push({ what: `latency run ${title.split(' ')[0]} at ${OFFERED_RATE} req/s, returning identities`, requests: result.requests, statements: statements() - before });
      log(summaryOpenLoop(result));
    }
    // The machine's own floor at the same rate: plain node:http, a constant answer of the same size.
    log(`latency at ${OFFERED_RATE} req/s: plain node:http`);
    const floor = await runOpenLoop({ title: '(p) plain node:http, same answer size', url: plainUrl, rate: OFFERED_RATE, durationSeconds: DURATION, connections: CONNECTIONS, vary: () => ({ body: ofrepBody(randomUser()) }) });
    latency.push(floor);
    log(summaryOpenLoop(floor));
    return { report: { o, r, r0, latency, offeredRate: OFFERED_RATE }, loadSql };
  } finally {
    await plain.stop();
  }
}

async function benchFlagledger(): Promise<{ a: LoadResult; aNew: LoadResult; floor: LoadResult; targeted: LoadResult; ofrep: OfrepReport; loadSql: SqlProbe[]; probes: SqlProbe[] }> {
  const name = 'flagledger_bench';
  await freshDatabase(ADMIN_URL, name);
  const target = new URL(ADMIN_URL);
  const counter = await startSqlCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const viaCounter = new URL(ADMIN_URL);
  viaCounter.port = String(counter.port);
  viaCounter.pathname = `/${name}`;
  const databaseUrl = viaCounter.toString();
  const server = await startFlagledger('flagledger', databaseUrl, PORTS.flagledger);
  try {
    log(`flagledger up; creating ${FEATURES} features (${MULTIVARIATE} multivariate) with the admin API`);
    const project = await seedBenchProject(server.url, FEATURES, MULTIVARIATE);
    const sample = await flagsOnce(server.url, project.environmentKey, 'sanity');
    const withVariant = sample.filter((flag) => flag.variant !== null).length;
    if (sample.length !== FEATURES || withVariant !== MULTIVARIATE) throw new Error(`unexpected flags: ${sample.length} flags, ${withVariant} with a variant`);

    const url = `${server.url}/graphql`;
    const headers = { 'x-environment-key': project.environmentKey };
    const verifyBody = (body: string) => body.startsWith('{"data":{"flags":[{') && !body.includes('"errors"');
    const count = () => counter.statements();

    const probes: SqlProbe[] = [];
    const send = (key: string, identifier: string, base = server.url) => async () => void (await flagsOnce(base, key, identifier));
    probes.push(await probe('sequential, a new identity each (first sight)', count, 200, (i) => send(project.environmentKey, `probe-${i}`)()));
    probes.push(await probe('sequential, the same identities again (warm cache)', count, 200, (i) => send(project.environmentKey, `probe-${i}`)()));

    log(`warm-up: ${IDENTITIES} identities, first sight`);
    let before = count();
    const warmup = await runLoad({ title: 'warm-up', url, headers, connections: CONNECTIONS, amount: IDENTITIES, vary: (n) => ({ body: flagsBody(`user-${n % IDENTITIES}`) }), verifyBody });
    const loadSql: SqlProbe[] = [{ what: `load, ${fmtInt(IDENTITIES)} new identities (warm-up)`, requests: warmup.requests, statements: count() - before }];
    log(summary(warmup));
    if (WARMUP > 0) await runLoad({ title: 'warm-up 2', url, headers, connections: CONNECTIONS, duration: WARMUP, vary: () => ({ body: flagsBody(randomUser()) }) });

    log('(a) flagledger flags, returning identities');
    before = count();
    const a = await runLoad({ title: '(a) flagledger', url, headers, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: flagsBody(randomUser()) }), verifyBody });
    loadSql.unshift({ what: 'load (a): returning identities, warm cache', requests: a.requests, statements: count() - before });
    log(summary(a));

    const ofrep = await benchOfrep(server.url, project.environmentKey, count);

    log("(a') flagledger flags, a new identity per request");
    before = count();
    const aNew = await runLoad({ title: "(a') flagledger, new identities", url, headers, connections: CONNECTIONS, duration: DURATION, vary: (n) => ({ body: flagsBody(`new-${n}`) }), verifyBody });
    loadSql.splice(1, 0, { what: "load (a′): a new identity per request", requests: aNew.requests, statements: count() - before });
    log(summary(aNew));

    // The server's floor: the same HTTP, auth and GraphQL pipeline with nothing to execute.
    log('(a0) flagledger { __typename }');
    const floorBody = JSON.stringify({ query: '{ __typename }' });
    const floor = await runLoad({ title: '(a0) flagledger __typename', url, headers, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: floorBody }) });
    log(summary(floor));

    // The same features with segments and segment overrides, identities sending 5 traits
    // (unchanged from request to request, as a returning user's are).
    log(`(t) flagledger flags with ${SEGMENTS} segments and ${SEGMENT_OVERRIDES} segment overrides, 5 traits`);
    await seedBenchTargeting(server.url, project, SEGMENTS, SEGMENT_OVERRIDES);
    const targetedUser = (n: number) => ({ body: targetedFlagsBody(`tuser-${n}`, benchTraits(n)) });
    await runLoad({ title: 'warm-up (t)', url, headers, connections: CONNECTIONS, amount: IDENTITIES, vary: (n) => targetedUser(n % IDENTITIES), verifyBody });
    if (WARMUP > 0) await runLoad({ title: 'warm-up (t) 2', url, headers, connections: CONNECTIONS, duration: WARMUP, vary: () => targetedUser(Math.floor(Math.random() * IDENTITIES)) });
    before = count();
    const targeted = await runLoad({
      title: '(t) flagledger, targeting',
      url,
      headers,
      connections: CONNECTIONS,
      duration: DURATION,
      vary: () => targetedUser(Math.floor(Math.random() * IDENTITIES)),
      verifyBody,
    });
    loadSql.push({ what: 'load (t): returning identities with traits, segments, warm cache', requests: targeted.requests, statements: count() - before });
    log(summary(targeted));

    // Config loads: a second server on the same database with the cache off (TTL 0) loads the
    // config on every request: for 100 features and for the demo environment's 1.
    const uncached = await startFlagledger('flagledger-uncached', databaseUrl, PORTS.flagledgerNoCache, { CACHE_TTL_SECONDS: '0' });
    try {
      await flagsOnce(uncached.url, project.environmentKey, 'probe-0');
      await flagsOnce(uncached.url, project.demoEnvironmentKey, 'probe-0');
      probes.push(await probe('cache off, 100 features (config load each)', count, 100, () => send(project.environmentKey, 'probe-0', uncached.url)()));
      probes.push(await probe('cache off, 1 feature (config load each)', count, 100, () => send(project.demoEnvironmentKey, 'probe-0', uncached.url)()));
    } finally {
      await uncached.child.stop();
    }
    return { a, aNew, floor, targeted, ofrep: ofrep.report, loadSql: [...loadSql, ...ofrep.loadSql], probes };
  } finally {
    await server.child.stop();
    await counter.close();
    await dropDatabase(ADMIN_URL, name);
  }
}

async function benchBaseline(): Promise<{ b: LoadResult; latency: OpenLoopResult }> {
  const base = `http://127.0.0.1:${PORTS.baseline}`;
  const child = await startChild('baseline', process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], { PORT: String(PORTS.baseline), NODE_ENV: 'production' }, `${base}/graphql?query=%7B__typename%7D`);
  try {
    const url = `${base}/graphql`;
    const query = 'query Items($identifier: String) { items(identifier: $identifier) { name enabled value variant reason } }';
    const vary = () => ({ body: JSON.stringify({ query, variables: { identifier: randomUser() } }) });
    const verifyBody = (body: string) => body.startsWith('{"data":{"items":[{');
    if (WARMUP > 0) await runLoad({ title: 'warm-up', url, connections: CONNECTIONS, duration: WARMUP, vary });
    log('(b) baseline');
    const b = await runLoad({ title: '(b) baseline', url, connections: CONNECTIONS, duration: DURATION, vary, verifyBody });
    log(summary(b));
    // The GraphQL stack's own latency at the rate `flags` is measured at.
    log(`latency at ${OFFERED_RATE} req/s: bare Yoga + Pothos`);
    const latency = await runOpenLoop({ title: '(b) bare Yoga + Pothos, 100 items', url, rate: OFFERED_RATE, durationSeconds: DURATION, connections: CONNECTIONS, vary });
    log(summaryOpenLoop(latency));
    return { b, latency };
  } finally {
    await child.stop();
  }
}

async function benchUnleash(): Promise<LoadResult> {
  const name = 'unleash_bench';
  installUnleash();
  const databaseUrl = await freshDatabase(ADMIN_URL, name);
  const unleash = await startUnleash(databaseUrl, PORTS.unleash);
  try {
    log(`Unleash up; creating ${FEATURES} flags (${MULTIVARIATE} with 3 variants) with its admin API`);
    await seedUnleash(unleash.url, FEATURES, MULTIVARIATE);
    // Its frontend API serves from an in-memory copy: wait until it has every flag.
    for (let attempt = 0; ; attempt++) {
      const toggles = await unleashFrontendOnce(unleash.url, 'sanity');
      const withVariant = toggles.filter((toggle) => toggle.variant?.enabled).length;
      if (toggles.length === FEATURES && withVariant === MULTIVARIATE) break;
      if (attempt > 120) throw new Error(`Unleash frontend API shows ${toggles.length} flags, ${withVariant} with a variant`);
      await sleep(1000);
    }
    const url = `${unleash.url}/api/frontend`;
    const headers = { authorization: UNLEASH_FRONTEND_TOKEN };
    const vary = () => ({ path: `/api/frontend?userId=${randomUser()}` });
    const verifyBody = (body: string) => body.startsWith('{"toggles":[{');
    if (WARMUP > 0) await runLoad({ title: 'warm-up', url, method: 'GET', headers, connections: CONNECTIONS, duration: WARMUP, vary });
    log('(c) Unleash');
    const c = await runLoad({ title: '(c) Unleash', url, method: 'GET', headers, connections: CONNECTIONS, duration: DURATION, vary, verifyBody });
    log(summary(c));
    return c;
  } finally {
    await unleash.child.stop();
    await dropDatabase(ADMIN_URL, name);
  }
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

async function main(): Promise<void> {
  const runs: RepeatRun[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`run ${run}/${RUNS}`);
    runs.push(await benchOnce(runs));
  }
}

/** One whole run: flags, baseline, Unleash, then single reports; writes BENCHMARKS.md. */
async function benchOnce(earlier: RepeatRun[]): Promise<RepeatRun> {
  const startedAt = new Date();
  const machine = describeMachine(await postgresVersion());
  log(`${machine.cores} cores, ${machine.model}, load average ${machine.load}; ${DURATION} s per run, ${CONNECTIONS} connections`);
  const flagledger = await benchFlagledger();
  const { b, latency: baselineLatency } = await benchBaseline();
  flagledger.ofrep.latency.push(baselineLatency);
  const c = await benchUnleash();
  const single = await benchSingleReports({ warmup: Math.min(WARMUP, 5), duration: DURATION });
  const report: FlagsReport = {
    machine,
    command: 'npm run bench',
    startedAt,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    connections: CONNECTIONS,
    identities: IDENTITIES,
    a: flagledger.a,
    aNew: flagledger.aNew,
    floor: flagledger.floor,
    targeted: flagledger.targeted,
    ofrep: flagledger.ofrep,
    b,
    c,
    loadSql: flagledger.loadSql,
    probes: flagledger.probes,
    loadAverageBefore: machine.load,
    loadAverageAfter: describeMachine(machine.postgres).load,
    history: recordRun({
      at: startedAt.toISOString(),
      warmupSeconds: WARMUP,
      a: flagledger.a.requestsPerSecond,
      aNew: flagledger.aNew.requestsPerSecond,
      floor: flagledger.floor.requestsPerSecond,
      b: b.requestsPerSecond,
      c: c.requestsPerSecond,
      o: flagledger.ofrep.o.requestsPerSecond,
    }),
  };
  const run: RepeatRun = {
    at: startedAt.toISOString(),
    load: machine.load,
    a: flagledger.a.requestsPerSecond,
    b: b.requestsPerSecond,
    c: single.c.perSecond,
    d: single.d.perSecond,
    b1: single.b1.perSecond,
  };
  writeBenchmarks('BENCHMARKS.md', flagsSection(report), runsBlock([...earlier, run]));
  log(`t/a = ${(flagledger.targeted.requestsPerSecond / flagledger.a.requestsPerSecond).toFixed(2)}`);
  const { o, r } = flagledger.ofrep;
  log(`o/a = ${(o.requestsPerSecond / flagledger.a.requestsPerSecond).toFixed(2)}, o/c = ${(o.requestsPerSecond / c.requestsPerSecond).toFixed(2)}, r/o = ${(r.requestsPerSecond / o.requestsPerSecond).toFixed(2)}`);
  log(`a/c = ${(flagledger.a.requestsPerSecond / c.requestsPerSecond).toFixed(2)}, a/b = ${(run.a / run.b).toFixed(2)}; c/d = ${(run.c / run.d).toFixed(2)}, c/b1 = ${(run.c / run.b1).toFixed(2)}; wrote BENCHMARKS.md`);
  return run;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
