// `npx tsx bench/profile.ts [single|flags ...]`: where a request's time goes in the server.
// Starts flagledger under `node --cpu-prof` on a scratch PostgreSQL database, warms it up,
// loads it with autocannon at 50 connections, stops it (the profile is written on exit) and
// sums the samples of the measured window into the stages of a request:
//   single: `recordExposure`, one item per request (bench/exposures.ts run (c));
//   typename: `{ __typename }` on the same kind of server, warmed the same way (run (d));
//   flags:  `flags` for returning identities, 100 features, 20 multivariate (bench/run.ts run (a));
//   revalidate: OFREP bulk revalidations answered 304 (bench/run.ts run (r)).
// Prints a markdown table per scenario; the raw profiles stay in .bench/profiles/ (open them in
// Chrome DevTools or speedscope for the details).
//
// BENCH_DURATION (seconds measured, default 20), BENCH_WARMUP (default 10), BENCH_DATABASE_URL.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { IDENTITIES as EXPOSURE_IDENTITIES, batchBody, seedExposureProject, singleBody, singleOk } from './exposure-load.js';
import { flagsBody, seedBenchProject, startFlagledger } from './flagledger.js';
import { runLoad, type LoadResult } from './load.js';
import { collectEtags, OFREP_BULK_PATH, ofrepBody } from './ofrep.js';
import { BENCH_DIR, type Child, dropDatabase, freshDatabase, startChild } from './processes.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const CONNECTIONS = 50;
const PORT = Number(process.env.BENCH_PROFILE_PORT ?? 4871);
const DATABASE = 'flagledger_bench_profile';
const PROFILE_DIR = join(BENCH_DIR, 'profiles');
const FLAG_IDENTITIES = 10_000;

// ---------------------------------------------------------------------------------------
// The stages a sample is counted in: the innermost frame of its stack that a rule names decides
// (a native frame such as JSON.parse has no script: its caller's stage counts).

export const STAGES = [
  'HTTP and body',
  'GraphQL parse, validate, compile',
  'input checks',
  'auth',
  'catalog and evaluation',
  'statement (Prisma, pg)',
  'GraphQL execution',
  'serialising the answer',
  'Yoga/envelop pipeline',
  'logging',
  'garbage collection',
  'other JavaScript',
  'native/runtime (program)',
] as const;
export type Stage = (typeof STAGES)[number];

// Two tiers: a frame of the first tier anywhere in the stack decides (the innermost such frame),
// so that e.g. pg's socket reads count as the statement, not as the node:net they run in; the
// second tier (the HTTP stack, Yoga's pipeline) counts what no first-tier frame claims.
const RULES: [RegExp, Stage][] = [
  [/result-processor\/stringify|fast-json-stringify/, 'serialising the answer'],
  [/request-parser|src\/http\/body|src\/openfeature\/routes/, 'HTTP and body'],
  [/graphql\/language\/|graphql\/validation\/|document-limits|parser-and-validation-cache|graphql\/utilities\//, 'GraphQL parse, validate, compile'],
  [/src\/http\/input-integrity/, 'input checks'],
  [/src\/auth\//, 'auth'],
  [/src\/exposures\/store|@prisma\/|src\/generated\/prisma|\/pg\/|\/pg-protocol\/|\/pg-pool\/|\/pg-types\/|postgres-|src\/db\//, 'statement (Prisma, pg)'],
  [/src\/engine\/|src\/evaluation\/|src\/openfeature\/(service|normalise)|src\/exposures\/(catalog|normalise|service)|src\/identities\/|node:crypto/, 'catalog and evaluation'],
  [/graphql\/execution\/|graphql-jit|@graphql-tools\/executor|@pothos\/|src\/schema\/|graphql\.ts$|graphql\/[^/]+\.ts$/, 'GraphQL execution'],
  [/pino|thread-stream|sonic-boom/, 'logging'],
];
const SECOND_TIER: [RegExp, Stage][] = [
  [/graphql-yoga|@envelop\/|@graphql-yoga|@graphql-tools\/|@whatwg-node\/(server|promise-helpers)/, 'Yoga/envelop pipeline'],
  [/node:|@whatwg-node\/node-fetch|@whatwg-node\/fetch|src\/http\/|undici/, 'HTTP and body'],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface StageShares {
  /** Microseconds sampled in the window (idle included). */
  total: number;
  idle: number;
  byStage: Map<Stage, number>;
  /** The costliest functions by self time: `name (file)` -> microseconds. */
  topSelf: [string, number][];
}

/** Sums the time sampled in [from, to] microseconds of the profile's clock by stage. */
export function summarise(profile: CpuProfile, from = -Infinity, to = Infinity): StageShares {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stageOf = new Map<number, Stage | 'idle'>();
  /** The innermost frame at or above `id` that `rules` name, if any. */
  const find = (id: number, rules: [RegExp, Stage][]): Stage | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url } = byId.get(at)!.callFrame;
      const stage = url ? rules.find(([pattern]) => pattern.test(url))?.[1] : undefined;
      if (stage) return stage;
    }
    return undefined;
  };
  const classify = (id: number): Stage | 'idle' => {
    const cached = stageOf.get(id);
    if (cached) return cached;
    const { functionName } = byId.get(id)!.callFrame;
    let stage: Stage | 'idle';
    if (functionName === '(idle)') stage = 'idle';
    else if (functionName === '(garbage collector)') stage = 'garbage collection';
    else if (functionName === '(program)') stage = 'native/runtime (program)';
    else stage = find(id, RULES) ?? find(id, SECOND_TIER) ?? 'other JavaScript';
    stageOf.set(id, stage);
    return stage;
  };
  const byStage = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  const self = new Map<string, number>();
  let idle = 0;
  let total = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    // A sample stands for the time until the next one.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) return;
    total += delta;
    const stage = classify(id);
    if (stage === 'idle') {
      idle += delta;
      return;
    }
    byStage.set(stage, byStage.get(stage)! + delta);
    const { functionName, url } = byId.get(id)!.callFrame;
    const name = `${functionName || '(anonymous)'} (${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')})`;
    self.set(name, (self.get(name) ?? 0) + delta);
  });
  const topSelf = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
  return { total, idle, byStage, topSelf };
}

/** Shares of the busy time and microseconds of CPU per request, by stage. */
export function sharesTable(title: string, shares: StageShares, requests: number): string {
  const busy = shares.total - shares.idle;
  const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
  const perRequest = (n: number) => Math.round(n / Math.max(1, requests)).toLocaleString('en-US');
  return [
    `| ${title}: stage | share of busy CPU | µs per request |`,
    '|---|---:|---:|',
    ...STAGES.filter((s) => shares.byStage.get(s)! > 0).map((s) => `| ${s} | ${pct(shares.byStage.get(s)!, busy)} | ${perRequest(shares.byStage.get(s)!)} |`),
    `| **busy, all stages** | 100% | **${perRequest(busy)}** |`,
    `| (idle: waiting for the network or the database; share of the window) | ${pct(shares.idle, shares.total)} | |`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

function log(message: string): void {
  console.log(`[profile ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

interface Scenario {
  title: string;
  /** Starts the server (with the profiler flags) and makes its data: the URL to load and the headers. */
  start(profilerArgs: string[]): Promise<{ child: Child; url: string; headers: Record<string, string>; cleanup?: () => Promise<void> }>;
  warm(url: string, headers: Record<string, string>): Promise<void>;
  measure(url: string, headers: Record<string, string>): Promise<LoadResult>;
}

const randomFlagsBody = () => flagsBody(`user-${Math.floor(Math.random() * FLAG_IDENTITIES)}`);

async function flagledger(name: string, profilerArgs: string[]) {
  const databaseUrl = await freshDatabase(ADMIN_URL, DATABASE);
  const server = await startFlagledger(`flagledger-profile-${name}`, databaseUrl, PORT, {}, profilerArgs);
  return { server, cleanup: () => dropDatabase(ADMIN_URL, DATABASE) };
}

const SCENARIOS: Record<string, Scenario> = {
  single: {
    title: 'single `recordExposure`',
    async start(profilerArgs) {
      const { server, cleanup } = await flagledger('single', profilerArgs);
      return { child: server.child, url: `${server.url}/graphql`, headers: { 'x-environment-key': await seedExposureProject(server.url) }, cleanup };
    },
    async warm(url, headers) {
      // Every identity seen first, as in bench/exposures.ts.
      await runLoad({ title: 'warm-up batches', url, headers, connections: 4, amount: (EXPOSURE_IDENTITIES / 1000) * 5, vary: () => ({ body: batchBody('warm', 1000) }) });
      await runLoad({ title: 'warm-up', url, headers, connections: CONNECTIONS, duration: WARMUP, vary: () => ({ body: singleBody('warm-c') }) });
    },
    measure: (url, headers) =>
      runLoad({ title: 'single', url, headers, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: singleBody('c') }), verifyBody: singleOk }),
  },
  // `{ __typename }` on the server of `single`, warmed the same way: (d) of bench/exposures.ts,
  // for comparison stage by stage with (c).
  typename: {
    title: '`{ __typename }`, after single reports',
    start: (profilerArgs) => SCENARIOS.single.start(profilerArgs),
    warm: (url, headers) => SCENARIOS.single.warm(url, headers),
    measure: (url) =>
      runLoad({ title: 'typename', url, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: TYPENAME_BODY }), verifyBody: (body) => body.includes('"Query"') }),
  },
  flags: {
    title: '`flags`, 100 features',
    async start(profilerArgs) {
      const { server, cleanup } = await flagledger('flags', profilerArgs);
      const project = await seedBenchProject(server.url, 100, 20);
      return { child: server.child, url: `${server.url}/graphql`, headers: { 'x-environment-key': project.environmentKey }, cleanup };
    },
    async warm(url, headers) {
      await runLoad({ title: 'warm-up identities', url, headers, connections: CONNECTIONS, amount: FLAG_IDENTITIES, vary: (n) => ({ body: flagsBody(`user-${n % FLAG_IDENTITIES}`) }) });
      await runLoad({ title: 'warm-up', url, headers, connections: CONNECTIONS, duration: WARMUP, vary: () => ({ body: randomFlagsBody() }) });
    },
    measure: (url, headers) =>
      runLoad({ title: 'flags', url, headers, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: randomFlagsBody() }), verifyBody: (body) => body.startsWith('{"data":{"flags":[{') }),
  },
  // bench/run.ts (r): OFREP bulk revalidations answered 304, for returning identities.
  revalidate: {
    title: 'OFREP revalidation (304)',
    async start(profilerArgs) {
      const { server, cleanup } = await flagledger('revalidate', profilerArgs);
      const project = await seedBenchProject(server.url, 100, 20);
      return { child: server.child, url: server.url, headers: { 'x-api-key': project.environmentKey }, cleanup };
    },
    async warm(url, headers) {
      revalidationEtags = await collectEtags(url, headers['x-api-key'], FLAG_IDENTITIES, (n) => `user-${n}`);
      await runLoad({ title: 'warm-up', url: `${url}${OFREP_BULK_PATH}`, headers, connections: CONNECTIONS, duration: WARMUP, vary: revalidation, status: 304 });
    },
    measure: (url, headers) =>
      runLoad({ title: 'revalidate', url: `${url}${OFREP_BULK_PATH}`, headers, connections: CONNECTIONS, duration: DURATION, vary: revalidation, verifyBody: (body) => body === '', status: 304 }),
  },
  // bench/run.ts (b), for comparison stage by stage.
  baseline: {
    title: 'bare Yoga + Pothos, 100 × 5',
    async start(profilerArgs) {
      const base = `http://127.0.0.1:${PORT}`;
      const child = await startChild('baseline-profile', process.execPath, [...profilerArgs, '--import', 'tsx', 'bench/baseline-server.ts'], { PORT: String(PORT), NODE_ENV: 'production' }, `${base}/graphql?query=%7B__typename%7D`);
      return { child, url: `${base}/graphql`, headers: {} };
    },
    async warm(url) {
      await runLoad({ title: 'warm-up', url, connections: CONNECTIONS, duration: WARMUP, vary: () => ({ body: BASELINE_BODY() }) });
    },
    measure: (url) =>
      runLoad({ title: 'baseline', url, connections: CONNECTIONS, duration: DURATION, vary: () => ({ body: BASELINE_BODY() }), verifyBody: (body) => body.startsWith('{"data":{"items":[{') }),
  },
};

const TYPENAME_BODY = JSON.stringify({ query: '{ __typename }' });

let revalidationEtags: string[] = [];
const revalidation = () => {
  const n = Math.floor(Math.random() * FLAG_IDENTITIES);
  return { body: ofrepBody(`user-${n}`), headers: { 'if-none-match': revalidationEtags[n] } };
};

const BASELINE_BODY = () =>
  JSON.stringify({
    query: 'query Items($identifier: String) { items(identifier: $identifier) { name enabled value variant reason } }',
    variables: { identifier: `user-${Math.floor(Math.random() * FLAG_IDENTITIES)}` },
  });

async function profileScenario(name: string): Promise<void> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}: one of ${Object.keys(SCENARIOS).join(', ')}`);
  const dir = join(PROFILE_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { child, url, headers, cleanup } = await scenario.start(['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250']);
  let window: { start: number; end: number; exit: number } | undefined;
  let result: LoadResult | undefined;
  try {
    log(`${name}: warm-up`);
    await scenario.warm(url, headers);
    log(`${name}: measuring ${DURATION} s at ${CONNECTIONS} connections (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    const start = Date.now();
    result = await scenario.measure(url, headers);
    const end = Date.now();
    await child.stop();
    window = { start, end, exit: Date.now() };
    log(`${name}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99} ms, ${result.failures} failures`);
  } finally {
    await child.stop();
    await cleanup?.();
  }
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (!file || !window || !result) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  // The profile ends at the exit; the measured window is placed back from there (µs).
  const from = profile.endTime - (window.exit - window.start) * 1000;
  const to = profile.endTime - (window.exit - window.end) * 1000;
  const shares = summarise(profile, from, to);
  console.log(`\n${sharesTable(scenario.title, shares, result.requests)}\n`);
  console.log(`${result.requests} requests in the window, ${Math.round(result.requestsPerSecond)} req/s. Costliest functions by self time (${name}):`);
  const busy = shares.total - shares.idle;
  for (const [fn, n] of shares.topSelf) console.log(`  ${((100 * n) / busy).toFixed(1).padStart(5)}%  ${fn}`);
  console.log(`(profile: ${join(dir, file)})\n`);
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  if (names[0] === '--summarise') {
    // --summarise <file.cpuprofile> <requests> <seconds>: the last <seconds> before the exit.
    const [, file, requests, seconds] = names;
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const shares = summarise(profile, profile.endTime - Number(seconds) * 1e6);
    console.log(sharesTable(file, shares, Number(requests)));
    return;
  }
  for (const name of names.length ? names : Object.keys(SCENARIOS)) await profileScenario(name);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
