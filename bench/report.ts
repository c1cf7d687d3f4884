// BENCHMARKS.md: this run's flags numbers; the exposures, analytics and experiments sections (written by
// their own benchmarks) are kept as they are.
import { STATEMENTS_PER_LOAD } from '../src/evaluation/config.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { LoadResult } from './load.js';
import type { OpenLoopResult } from './open-loop.js';

export interface Machine {
  cores: number;
  model: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  load: string;
}

export function describeMachine(postgresVersion: string): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  let cores = cpus().length;
  try {
    cores = Number(execFileSync('nproc').toString().trim()) || cores;
  } catch {
    // no nproc
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  return { cores, model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: postgresVersion, load };
}

export interface SqlProbe {
  what: string;
  requests: number;
  statements: number;
}

/** One run's request rates, kept in .bench/flags-runs.json to show the spread between runs. */
export interface RunRecord {
  at: string;
  warmupSeconds: number;
  a: number;
  aNew: number;
  floor: number;
  b: number;
  c: number;
  /** OFREP bulk (runs before it was measured have none). */
  o?: number;
}

/** OFREP on the same server as (a), same identities. */
export interface OfrepReport {
  /** Bulk evaluation of every flag. */
  o: LoadResult;
  /** Revalidation with the context's ETag: 304, no body. */
  r: LoadResult;
  /** Plain node:http answering the same revalidations 304 with no work: the ceiling of (r) here. */
  r0: LoadResult;
  /** `flags` and OFREP bulk at a constant offered rate. */
  latency: OpenLoopResult[];
  offeredRate: number;
}

const HISTORY = '.bench/flags-runs.json';

/** Appends this run to the local history and returns the last `keep` runs, oldest first. */
export function recordRun(run: RunRecord, keep = 10): RunRecord[] {
  let runs: RunRecord[] = [];
  try {
    runs = JSON.parse(readFileSync(HISTORY, 'utf8')) as RunRecord[];
  } catch {
    // first run here
  }
  runs.push(run);
  writeFileSync(HISTORY, `${JSON.stringify(runs, null, 1)}\n`);
  return runs.slice(-keep);
}

export interface FlagsReport {
  machine: Machine;
  command: string;
  startedAt: Date;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  identities: number;
  a: LoadResult;
  aNew: LoadResult;
  /** flagledger answering `{ __typename }`: its HTTP + GraphQL pipeline alone. */
  floor: LoadResult;
  /** (a) with segments, segment overrides and identities' traits. */
  targeted?: LoadResult;
  ofrep?: OfrepReport;
  b: LoadResult;
  c: LoadResult;
  /** Statements counted on the wire during the load runs and the sequential probes. */
  loadSql: SqlProbe[];
  probes: SqlProbe[];
  loadAverageBefore: string;
  loadAverageAfter: string;
  /** The latest runs on this machine (this one last). */
  history: RunRecord[];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function row(label: string, r: LoadResult): string {
  return `| ${label} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.requests)} | ${r.failures} |`;
}

function latencyRow(r: OpenLoopResult): string {
  return `| ${r.title} | ${fmt(r.rate)} | ${fmt(r.achievedRate)} | ${fmt(r.p50, 2)} | ${fmt(r.p90, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.p999, 2)} | ${fmt(r.max, 1)} | ${fmt(r.requests)} | ${r.failures} | ${fmt(r.maxSendLag, 1)} |`;
}

function ofrepSection(report: FlagsReport, ofrep: OfrepReport): string {
  const { a, c } = report;
  const { o, r, r0 } = ofrep;
  const ratio = (x: number, y: number) => (y > 0 ? (x / y).toFixed(2) : 'n/a');
  return `
### OpenFeature (OFREP)

On the same server as (a), right after it, for the same returning identities:

- (o) OFREP bulk evaluation, \`POST /ofrep/v1/evaluate/flags\` with \`{"context":{"targetingKey":"user-…"}}\`: the
  same 100 flags from the same evaluation path and cache as \`flags\`, without the GraphQL layer.
- (r) a revalidation: the same request with \`If-None-Match\` carrying the ETag of that context (collected
  beforehand for every identity): 304 with no body, the flags not evaluated.

Each is measured in two halves of the run's duration, in the order o, r, r, o (this machine's speed drifts
over tens of seconds; both get the same share of it); rates are the halves' duration-weighted mean, p99 the worse half's.

| run | req/s | p50 ms | p99 ms | requests | failures |
|---|---:|---:|---:|---:|---:|
${row('(o) OFREP bulk, 100 flags, returning identities', o)}
${row('(r) OFREP bulk revalidation, 304', r)}
${row('(r0) plain node:http, the same revalidations answered 304 with no work', r0)}

Ratios (same run): **o / a = ${ratio(o.requestsPerSecond, a.requestsPerSecond)}** (target ≥ 1.2), **o / c = ${ratio(o.requestsPerSecond, c.requestsPerSecond)}** (target ≥ 5),
**r / o = ${ratio(r.requestsPerSecond, o.requestsPerSecond)}** (target ≥ 3). The ceiling on this machine: r0 / o = ${ratio(r0.requestsPerSecond, o.requestsPerSecond)}, what (r) would
reach if flagledger spent nothing on a revalidation (r0 right after the last half of (o), same load generator and connections);
r / r0 = ${ratio(r.requestsPerSecond, r0.requestsPerSecond)}.

Latency at a constant offered rate of ${fmt(ofrep.offeredRate)} requests per second (${report.durationSeconds} s each, at most
${report.connections} connections), corrected for coordinated omission: request *i* is due at start + *i* / rate whatever
happened to the others, and its latency counts from that intended time (bench/open-loop.ts, as wrk2 does). Goal: p99 ≤ 10 ms.
"send lag" is how late the generator itself sent a request at worst (already included in the latencies);
(p) is the machine's floor: plain node:http answering a constant body of about the same size, on the same cores;
(b) is the bare Yoga + Pothos baseline of the throughput runs, answering its 100 items: the GraphQL stack's own latency here.

| run | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | requests | failures | send lag ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${ofrep.latency.map(latencyRow).join('\n')}
`;
}

function sqlRow(probe: SqlProbe): string {
  return `| ${probe.what} | ${fmt(probe.requests)} | ${fmt(probe.statements)} | ${fmt(probe.statements / Math.max(1, probe.requests), 3)} |`;
}

export function flagsSection(report: FlagsReport): string {
  const { a, aNew, floor, b, c, machine } = report;
  const ratio = (x: number, y: number) => (y > 0 ? (x / y).toFixed(2) : 'n/a');
  return `# Benchmarks

Measured by \`${report.command}\` (bench/run.ts), ${report.startedAt.toISOString()}.

- Machine: ${machine.cores} cores (\`nproc\`), ${machine.model}, ${machine.memoryGiB} GiB RAM; Node ${machine.node}; ${machine.postgres}.
- Conditions: everything on this one machine: the server under test, PostgreSQL and the load
  generator (autocannon ${report.connections} connections, ${report.durationSeconds} s per run, after ${report.warmupSeconds} s of the same load on each server), and
  whatever else was running (load average before ${report.loadAverageBefore}, after ${report.loadAverageAfter}).
  Numbers on a shared 2-core machine are noisy: compare the ratios of one run, not runs.

## Flags evaluation

Each run asks for every flag of one environment for a varying identity:

- (a) flagledger \`flags(identifier)\` (GraphQL, compiled execution with graphql-jit), an environment with
  100 features of which 20 are multivariate with 3 keyed variants (34/33/33); identities drawn at random
  from ${fmt(report.identities)} identities seen during the warm-up (returning users).
- (a′) the same with a new identity on every request (first sight: the identity is created).
- (a0) for orientation, flagledger answering \`{ __typename }\` with the same client key: its HTTP, auth and
  GraphQL pipeline with nothing to execute, the ceiling for any query on this server.
- (b) the baseline: a bare Yoga + Pothos server (bench/baseline-server.ts) answering a constant list of
  100 objects of 5 scalar fields with plain graphql-js execution.
- (c) the peer: Unleash ${'8.2.0'} (\`unleash-server\` from npm, its own database on the same PostgreSQL),
  the same 100 flags (100% rollout, 20 with 3 variants) through its frontend API \`/api/frontend?userId=…\`
  for random \`userId\`s from the same pool size.

| run | req/s | p50 ms | p99 ms | requests | failures |
|---|---:|---:|---:|---:|---:|
${row('(a) flagledger `flags`, returning identities', a)}
${row('(a′) flagledger `flags`, a new identity per request', aNew)}
${row('(a0) flagledger `{ __typename }`', floor)}${report.targeted ? `\n${row('(t) flagledger `flags` with targeting, returning identities with traits', report.targeted)}` : ''}
${row('(b) bare Yoga + Pothos, 100 × 5 scalars, graphql-js', b)}
${row('(c) Unleash frontend API, 100 flags', c)}

Ratios (same run): **a / c = ${ratio(a.requestsPerSecond, c.requestsPerSecond)}** (target ≥ 2), **a / b = ${ratio(a.requestsPerSecond, b.requestsPerSecond)}** (target ≥ 1);
a′ / c = ${ratio(aNew.requestsPerSecond, c.requestsPerSecond)}, a′ / b = ${ratio(aNew.requestsPerSecond, b.requestsPerSecond)}; a / a0 = ${ratio(a.requestsPerSecond, floor.requestsPerSecond)}
(the share of the server's ceiling that \`flags\` reaches).${
    report.targeted
      ? `
Targeting: **t / a = ${ratio(report.targeted.requestsPerSecond, a.requestsPerSecond)}** (target ≥ 0.70): (t) is (a) on the same server after adding 20 segments
of 3-5 conditions (ALL rules over 5 traits: EQUAL, IN, semver and numeric comparisons, REGEX) and 10 segment
overrides, for identities sending 5 unchanged traits with each request.`
      : ''
  }

The ratios move from run to run with what else the 2 cores are doing; the latest runs on this machine
(each a whole \`npm run bench\`, from .bench/flags-runs.json):

| run at (UTC) | warm-up s | a | a′ | a0 | b | c | a / c | a / b | o |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${report.history.map((r) => `| ${r.at.slice(0, 16).replace('T', ' ')} | ${r.warmupSeconds} | ${fmt(r.a)} | ${fmt(r.aNew)} | ${r.floor ? fmt(r.floor) : '–'} | ${fmt(r.b)} | ${fmt(r.c)} | ${ratio(r.a, r.c)} | ${ratio(r.a, r.b)} | ${r.o ? fmt(r.o) : '–'} |`).join('\n')}
${report.ofrep ? ofrepSection(report, report.ofrep) : ''}
### SQL statements per \`flags\` request

Counted on the wire: flagledger's server reaches PostgreSQL through a pass-through proxy in the harness
(bench/sql-counter.ts) that counts every Query and Execute message it sends, over all its connections.

| what | requests | statements | per request |
|---|---:|---:|---:|
${[...report.loadSql, ...report.probes].map(sqlRow).join('\n')}

The evaluation config is read in ${STATEMENTS_PER_LOAD} statements per load (features with their states, live
options with their effective weights, the project's segments, the environment's segment overrides with
their weights, running experiments), whatever the number of features (1 or 100 above); on a warm cache
none, except one reload when an entry reaches its ${'`CACHE_TTL_SECONDS`'} (30 s) during a run. Identity
bookkeeping: none for an identity this process saw within the last minute with unchanged traits; past the
minute, one upsert of its lastSeenAt behind the answer; for a new identity or changed traits one upsert before
the answer; upserts of requests that arrive together are shared (hence well below 1 per request under load).
`;
}

/** One whole run's ratios for issue 16's targets (flags a/b; single reports c/d and c/b1). */
export interface RepeatRun {
  at: string;
  load: string;
  /** flags (a) and the bare Pothos list (b), req/s. */
  a: number;
  b: number;
  /** recordExposure (c) and `{ __typename }` (d) on one server, req/s; (b1) raw single-row statements, rows/s. */
  c: number;
  d: number;
  b1: number;
}

export const PERFORMANCE_SECTION = '## Performance: single reports and flags';
const RUNS_START = '<!-- runs: written by npm run bench -->';
const RUNS_END = '<!-- end of runs -->';

/** The runs of one `npm run bench`, each ratio per run, and its spread. */
export function runsBlock(runs: RepeatRun[]): string {
  const ratios = (r: RepeatRun) => ({ ab: r.a / r.b, cd: r.c / r.d, cb1: r.c / r.b1 });
  const all = runs.map(ratios);
  const spread = (pick: (x: ReturnType<typeof ratios>) => number, percent = false) => {
    const values = all.map(pick);
    const show = (v: number) => (percent ? `${Math.round(100 * v)}%` : v.toFixed(2));
    return `${show(Math.min(...values))} – ${show(Math.max(...values))}`;
  };
  const pct = (v: number) => `${Math.round(100 * v)}%`;
  return [
    RUNS_START,
    `${runs.length} consecutive run${runs.length === 1 ? '' : 's'} of \`npm run bench\` (50 connections each; flags as in *Flags evaluation*, single reports as in *Exposures*):`,
    '',
    '| run at (UTC) | load average | flags a | b | **a / b** (≥ 1.5) | single c | d | b1 rows/s | **c / d** (≥ 40%) | **c / b1** (≥ 50%) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map((r, i) => `| ${r.at.slice(0, 16).replace('T', ' ')} | ${r.load} | ${fmt(r.a)} | ${fmt(r.b)} | ${all[i].ab.toFixed(2)} | ${fmt(r.c)} | ${fmt(r.d)} | ${fmt(r.b1)} | ${pct(all[i].cd)} | ${pct(all[i].cb1)} |`),
    `| **spread (min – max)** | | | | **${spread((x) => x.ab)}** | | | | **${spread((x) => x.cd, true)}** | **${spread((x) => x.cb1, true)}** |`,
    RUNS_END,
  ].join('\n');
}

const KEPT_SECTIONS = [PERFORMANCE_SECTION, '## Exposures', '## Analytics', '## Experiments'];

/**
 * Writes BENCHMARKS.md: the flags part from this run, the other sections as they were (their
 * prose is written by hand); `runs` replaces the generated block of the performance section.
 */
export function writeBenchmarks(path: string, flags: string, runs?: string): void {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const kept = KEPT_SECTIONS.map((heading) => {
    const start = previous.indexOf(`\n${heading}`);
    if (start < 0) return `${heading}\n\n(filled by the ${heading.slice(3).toLowerCase()} benchmarks)\n`;
    const rest = previous.slice(start + 1);
    const next = rest.slice(heading.length).search(/\n## /);
    return next < 0 ? rest : rest.slice(0, heading.length + next + 1);
  });
  if (runs !== undefined) {
    const section = kept[0];
    const from = section.indexOf(RUNS_START);
    const to = section.indexOf(RUNS_END);
    kept[0] = from >= 0 && to > from ? section.slice(0, from) + runs + section.slice(to + RUNS_END.length) : `${section.trimEnd()}\n\n${runs}\n`;
  }
  writeFileSync(path, `${flags.trimEnd()}\n\n${kept.map((section) => section.trimEnd()).join('\n\n')}\n`);
}
